// Renders the app icons under public/icons/ from public/favicon.svg. Run it once after the
// favicon changes (`npx tsx packages/web/scripts/make-icons.ts`) and commit the PNGs. It uses
// sharp, which the server workspace installs.
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const PUBLIC = fileURLToPath(new URL('../public/', import.meta.url));
const OUT = `${PUBLIC}icons/`;
/** The favicon's background, so the maskable icon's safe-zone padding matches it. */
const ACCENT = '#1f6feb';

/** Renders the SVG at `size` pixels, scaled down by `inset` (0..1) and centered on `background`. */
async function render(svg: Buffer, size: number, file: string, { inset = 0, background = '' } = {}): Promise<void> {
  const inner = Math.round(size * (1 - inset));
  const art = await sharp(svg, { density: 72 * (inner / 64) * 2 }).resize(inner, inner).png().toBuffer();
  const canvas = sharp({ create: { width: size, height: size, channels: 4, background: background || { r: 0, g: 0, b: 0, alpha: 0 } } });
  await canvas.composite([{ input: art, gravity: 'center' }]).png({ compressionLevel: 9 }).toFile(`${OUT}${file}`);
}

/** Renders the notification badge: Android shows only its alpha channel, so it is white on clear. */
async function renderBadge(size: number, file: string): Promise<void> {
  const glyph = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><path d="M14 14h36a8 8 0 0 1 8 8v18a8 8 0 0 1-8 8H28l-12 10v-10h-2a8 8 0 0 1-8-8V22a8 8 0 0 1 8-8z" fill="#ffffff"/></svg>`;
  await sharp(Buffer.from(glyph), { density: 72 * (size / 64) * 2 }).resize(size, size).png({ compressionLevel: 9 }).toFile(`${OUT}${file}`);
}

const svg = await readFile(`${PUBLIC}favicon.svg`);
await mkdir(OUT, { recursive: true });
await render(svg, 192, 'icon-192.png');
await render(svg, 512, 'icon-512.png');
// A maskable icon keeps its content inside the central 80% circle, so the OS can crop it to any shape.
await render(svg, 512, 'maskable-512.png', { inset: 0.2, background: ACCENT });
// iOS rounds the corners itself and shows transparency as black, so the apple-touch icon is filled.
await render(svg, 180, 'apple-touch-icon.png', { inset: 0.1, background: ACCENT });
await renderBadge(96, 'badge-96.png');
console.log(`icons written to ${OUT}`);
