export interface Playground {
  /** e.g. "http://127.0.0.1:8000/" */
  readonly url: string;
  readonly port: number;
  /** Whether TF.js and its wasm backend were found in node_modules and are offered to the page. */
  readonly tfjs: boolean;
  close(): Promise<void>;
}

/**
 * Starts the playground's static server (default: 127.0.0.1, a free port). `tfjs: false` does not offer
 * TF.js to the page even when it is installed.
 */
export function startPlayground(options?: { port?: number; host?: string; tfjs?: boolean }): Promise<Playground>;
