// CommonJS entry of simdmax, which is an ES module. Node.js 20.19+ and 22.12+ can require() an ES module, so this
// hands it over; where that is not possible the error says how to load simdmax instead.
"use strict";
module.exports = require("./load.cjs")("../dist/index.js");
