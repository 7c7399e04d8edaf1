// The browsers the suites drive, both through puppeteer-core and both the system's own executables
// (found on PATH, test/system.ts; never a downloaded browser): Debian's Chromium over the DevTools
// protocol, Debian's Firefox ESR over WebDriver BiDi. TestPage gives the suites one small set of page
// actions, done the same way in both: a value set and its input event fired, as typing would.
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { programPath } from "../system.js";

export type BrowserName = "chromium" | "firefox";

/** Each browser: the system program it is, and how its user agent names it. */
export const BROWSERS: readonly { readonly name: BrowserName; readonly title: string; readonly userAgent: RegExp }[] = [
  { name: "chromium", title: "Chromium", userAgent: /Chrome\// },
  { name: "firefox", title: "Firefox", userAgent: /Firefox\// },
];

export const CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"];

export async function launch(name: BrowserName): Promise<TestBrowser> {
  const browser =
    name === "chromium"
      ? await puppeteer.launch({ executablePath: programPath("chromium"), args: CHROMIUM_FLAGS, headless: true })
      : await puppeteer.launch({ browser: "firefox", executablePath: programPath("firefox"), headless: true, protocol: "webDriverBiDi" });
  return new TestBrowser(browser);
}

export class TestBrowser {
  constructor(readonly browser: Browser) {}
  async newPage(): Promise<TestPage> {
    return new TestPage(await this.browser.newPage());
  }
  version(): Promise<string> {
    return this.browser.version();
  }
  close(): Promise<void> {
    return this.browser.close();
  }
}

/** A page, and every error it shows: uncaught exceptions, console errors, failed requests and HTTP errors. */
export class TestPage {
  readonly errors: string[] = [];
  constructor(readonly page: Page) {
    page.on("pageerror", (e) => this.errors.push(`pageerror: ${String(e)}`));
    page.on("console", (m) => {
      if (m.type() === "error") this.errors.push(`console: ${m.text()}`);
    });
    page.on("requestfailed", (r) => this.errors.push(`request failed: ${r.url()}`));
    page.on("response", (r) => {
      if (r.status() >= 400) this.errors.push(`HTTP ${r.status()}: ${r.url()}`);
    });
  }
  async goto(url: string): Promise<void> {
    await this.page.goto(url);
  }
  async waitForSelector(selector: string, timeout = 30_000): Promise<void> {
    await this.page.waitForSelector(selector, { timeout });
  }
  async waitForFunction(f: () => unknown, timeout = 30_000): Promise<void> {
    await this.page.waitForFunction(f, { timeout });
  }
  evaluate<T>(f: () => T): Promise<Awaited<T>> {
    return this.page.evaluate(f) as Promise<Awaited<T>>;
  }
  $$eval<T>(selector: string, f: (elements: Element[]) => T): Promise<Awaited<T>> {
    return this.page.$$eval(selector, f) as Promise<Awaited<T>>;
  }
  /** Sets an input's or a textarea's value and fires input and change, as editing it does. */
  async fill(selector: string, value: string): Promise<void> {
    await this.page.$eval(
      selector,
      (el, v) => {
        (el as HTMLInputElement).value = v;
        el.dispatchEvent(new Event("input", { bubbles: true }));
        el.dispatchEvent(new Event("change", { bubbles: true }));
      },
      value,
    );
  }
  /** Types text key by key into a focused field (a newline is Enter). */
  async type(selector: string, text: string): Promise<void> {
    await this.page.type(selector, text);
  }
  async click(selector: string): Promise<void> {
    await this.page.click(selector);
  }
  async selectOption(selector: string, value: string): Promise<void> {
    await this.page.select(selector, value);
  }
  textContent(selector: string): Promise<string | null> {
    return this.page.$eval(selector, (el) => el.textContent);
  }
  getAttribute(selector: string, name: string): Promise<string | null> {
    return this.page.$eval(selector, (el, n) => el.getAttribute(n), name);
  }
  inputValue(selector: string): Promise<string> {
    return this.page.$eval(selector, (el) => (el as HTMLInputElement).value);
  }
  isDisabled(selector: string): Promise<boolean> {
    return this.page.$eval(selector, (el) => (el as HTMLButtonElement).disabled);
  }
  /** Absent, or laid out with no box, or visibility: hidden. */
  isHidden(selector: string): Promise<boolean> {
    return this.page.evaluate((s) => {
      const el = document.querySelector(s);
      return !el || el.getClientRects().length === 0 || getComputedStyle(el).visibility === "hidden";
    }, selector);
  }
  async close(): Promise<void> {
    await this.page.close();
  }
}
