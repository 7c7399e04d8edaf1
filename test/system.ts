// The programs that only the system can provide (no npm package ships them), and the suites that need
// them: one table, read by the suites (to run, skip or fail) and by vitest.config.ts's reporter (to
// print one line per skipped suite). Everything else the tests need comes from npm (package.json).
//
// A suite whose program is found runs. When it is not found, the suite is skipped, and the run ends
// with `skipped <suite>: needs <program> (install: <command>)`; with CI=true a missing program is a
// failing test instead, so CI can never skip a suite silently. Programs are looked up on PATH, so a
// bare machine is simulated by a PATH without them (README, "The tests").
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { describe, it } from "vitest";

/** A system program: the commands a suite runs, and what installs them (Debian's package). */
export interface Program {
  readonly commands: readonly string[];
  readonly install: string;
}

export const PROGRAMS = {
  chromium: { commands: ["chromium"], install: "apt-get install -y chromium" },
  firefox: { commands: ["firefox-esr"], install: "apt-get install -y firefox-esr" },
  wabt: { commands: ["wast2json", "spectest-interp"], install: "apt-get install -y wabt" },
} as const satisfies Record<string, Program>;

export type ProgramName = keyof typeof PROGRAMS;

/** A suite (a top-level describe) that needs system programs: its file, from the repository's root. */
export interface Suite {
  readonly file: string;
  readonly title: string;
  readonly programs: readonly ProgramName[];
}

export const SUITES: readonly Suite[] = [
  { file: "test/browser.test.ts", title: "in Chromium", programs: ["chromium"] },
  { file: "test/browser.test.ts", title: "in Firefox", programs: ["firefox"] },
  { file: "test/playground.test.ts", title: "the playground in Chromium", programs: ["chromium"] },
  { file: "test/playground.test.ts", title: "the playground in Firefox", programs: ["firefox"] },
  { file: "test/abi-spectest.test.ts", title: "in WABT's C++ interpreter", programs: ["wabt"] },
];

/** The absolute path of a command found on PATH, or undefined. */
export function which(command: string, path = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, command);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {}
  }
  return undefined;
}

/** The commands of a program that PATH lacks. */
export function missingCommands(name: ProgramName): string[] {
  return PROGRAMS[name].commands.filter((c) => which(c) === undefined);
}

/** The line the run prints for a suite that cannot run here, or undefined when it can. */
export function skipLine(suite: Suite): string | undefined {
  const missing = suite.programs.filter((n) => missingCommands(n).length > 0);
  if (missing.length === 0) return undefined;
  const needs = missing.map((n) => missingCommands(n).join(", ")).join(", ");
  const install = missing.map((n) => PROGRAMS[n].install).join(" && ");
  return `skipped ${suite.file} > ${suite.title}: needs ${needs} (install: ${install})`;
}

/** Whether CI asked for every suite: then a missing program fails instead of skipping. */
export const strict = (): boolean => process.env.CI === "true";

/**
 * `describe(title, body)` for a suite of SUITES when every program it needs is on PATH; otherwise it is skipped (the reporter
 * prints why), or, with CI=true, replaced by one failing test that names the program and its install.
 */
export function describeWith(file: string, title: string, body: () => void): void {
  const suite = SUITES.find((s) => s.file === file && s.title === title);
  if (!suite) throw new Error(`test/system.ts: SUITES does not list ${file} > ${title}`);
  const line = skipLine(suite);
  if (line === undefined) describe(title, body);
  else if (strict())
    describe(title, () => {
      it("has the programs it needs (CI=true: a missing program is a failure)", () => {
        throw new Error(line.replace(/^skipped/, "cannot run"));
      });
    });
  else describe.skip(title, body);
}

/** The path of a program's command, or an Error saying how to install it. */
export function programPath(name: ProgramName, command: string = PROGRAMS[name].commands[0]!): string {
  const found = which(command);
  if (found === undefined) throw new Error(`${command} is not on PATH: ${PROGRAMS[name].install} (.ci/run does this)`);
  return found;
}
