package orchestrate

import "runtime"

// goos is runtime.GOOS (a variable only so that DefaultRoot's test can
// name each OS through defaultRoot).
var goos = runtime.GOOS
