/**
 * A setting or command-line argument that cannot be used. The message names the
 * setting and every place it can be set; `herald` prints it and exits with 2.
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
