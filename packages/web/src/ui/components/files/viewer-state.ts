import { ref } from 'vue';

/** The message whose image the viewer shows; empty when it is closed. */
export const viewingKey = ref('');

/** The element that opened the viewer, which gets the focus back when it closes. */
let opener: HTMLElement | undefined;

export function openViewer(key: string, from?: HTMLElement): void {
  opener = from;
  viewingKey.value = key;
}

export function closeViewer(): void {
  viewingKey.value = '';
  opener?.focus();
  opener = undefined;
}
