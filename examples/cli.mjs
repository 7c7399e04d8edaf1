// The command line of the worked examples: `node examples/sampling.mjs --seed 7 --json` runs the
// example's main() with those options. Imported in a browser (the playground), it does nothing.

/**
 * If the module at `url` (its import.meta.url) is the script Node was started with, parses the command
 * line and awaits main(options). `numbers` names the flags that take a number (--top-k 50 → topK: 50),
 * `strings` those that take a string (--plot out.svg → plot: "out.svg"); --json is a flag of every
 * example (json: true). An option not given is left to main's default; an unknown flag or a missing
 * value is an error, as node:util's parseArgs reports it.
 */
export async function runFromCommandLine(url, main, numbers, strings = []) {
  if (typeof process === "undefined" || !process.argv?.[1]) return;
  const { pathToFileURL } = await import("node:url");
  if (url !== pathToFileURL(process.argv[1]).href) return;
  const { parseArgs } = await import("node:util");
  const { values } = parseArgs({
    options: {
      ...Object.fromEntries([...numbers, ...strings].map((flag) => [flag, { type: "string" }])),
      json: { type: "boolean" },
    },
  });
  const options = { json: values.json ?? false };
  const camel = (flag) => flag.replace(/-(\w)/g, (_, c) => c.toUpperCase());
  for (const flag of numbers) if (values[flag] !== undefined) options[camel(flag)] = Number(values[flag]);
  for (const flag of strings) if (values[flag] !== undefined) options[camel(flag)] = values[flag];
  await main(options);
}
