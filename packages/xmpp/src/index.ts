export * from './xml/element.js';
export * from './ns.js';
export * from './errors.js';
