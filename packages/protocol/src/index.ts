export * from './errors.js';
export * from './topic.js';
export * from './envelope.js';
export * from './control.js';
export * from './sse.js';
export * from './codec.js';
export * from './filter.js';
export * from './sse-parser.js';
