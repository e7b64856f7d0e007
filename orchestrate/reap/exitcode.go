package reap

// exitCode turns a Windows process exit status (a DWORD) into a
// Result.ExitCode: the full 32 bits, read as a signed 32-bit number, the
// way the IME logs them and Graph's returnCodes hold them. 3010 stays
// 3010; 0x87D1041C reads -2016345060 on every platform, 32- or 64-bit.
func exitCode(status uint32) int { return int(int32(status)) }
