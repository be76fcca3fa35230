/**
 * The browser build's stand-in for error-messages.ts (the package's `browser`
 * field maps one onto the other): no texts, so a `HeraldError` built without a
 * message has its code as its message. The client always words its own errors.
 */
export const ERROR_MESSAGES: Readonly<Record<string, string>> = {};
