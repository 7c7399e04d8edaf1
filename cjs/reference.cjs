// CommonJS entry of simdmax/reference (see index.cjs).
"use strict";
module.exports = require("./load.cjs")("../dist/reference.js");
