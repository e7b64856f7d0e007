package stage

// directMin is the size from which a file is written with direct I/O
// where the system has it: below it the page cache is cheaper than
// waiting for the device on every write.
const directMin = 8 << 20
