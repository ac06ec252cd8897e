export * from './xml/element.js';
export * from './xml/parser.js';
export * from './ns.js';
export * from './errors.js';
export * from './jid.js';
export * from './precis.js';
export * from './forms.js';
export * from './rsm.js';
