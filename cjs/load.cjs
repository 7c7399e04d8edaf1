"use strict";
/** require()s one of simdmax's ES modules, or throws an Error that says to use import instead. */
module.exports = function load(path) {
  try {
    return require(path);
  } catch (e) {
    const code = e?.code;
    if (code === "ERR_REQUIRE_ESM" || code === "ERR_REQUIRE_ASYNC_MODULE") {
      throw new Error(
        "simdmax is an ES module and this Node.js cannot require() it. Load it with " +
          '`import { init, softmax } from "simdmax"`, or from CommonJS with `const simdmax = await import("simdmax")` ' +
          '(Node.js 20.19+ and 22.12+ also accept require("simdmax")).',
        { cause: e },
      );
    }
    throw e;
  }
};
