/** The end of a room that empties or is destroyed. */
import type { Room } from './room.js';

/**
 * Deletes a temporary room, or a room that was never configured, when its last occupant
 * has left. The row goes with its affiliations and archive. An empty persistent room
 * stays; the service unloads it from memory once its queue is idle (`MucService.roomIdle`).
 */
export async function closeIfEmpty(room: Room): Promise<void> {
  if (room.occupants.size > 0 || room.destroyed) return;
  if (room.config.persistent && !room.locked) return;
  await deleteRoom(room);
}

export async function deleteRoom(room: Room): Promise<void> {
  room.destroyed = true;
  room.host.roomDeleted(room.name);
  await room.host.store.delete(room.host.service, room.name);
}
