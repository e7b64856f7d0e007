package imeapi

import "fmt"

// Error codes of a Report (Report.ErrorCode): the IME's own values where
// it has one, else an HRESULT. An installer's exit code is reported as
// it is (1603), and shown as Intune shows it, as an HRESULT (CodeHex).
const (
	// CodeNotDetected is 0x87D1041C: the installer succeeded but the app
	// is not detected afterwards.
	CodeNotDetected int64 = -2016345060
	// CodeTimeout is 0x87D300C9: the installer ran past its maximum run time.
	CodeTimeout int64 = -2016214839
	// CodeFailure is E_FAIL (0x80004005), for failures with no exit code
	// of their own (download, verification, unpack, start); the report's
	// ErrorMessage says which.
	CodeFailure int64 = -2147467259
	// CodeDependency is 0x87D300D9, reported for an app whose dependency
	// is not met (the IME's own value is not publicly documented).
	CodeDependency int64 = -2016214823
	// CodeNoSession is 0x87D300CD, the IME's "the user logged off while
	// the app policy was being processed": a user-context app found no
	// logged-on user to run as.
	CodeNoSession int64 = -2016214835
)

// HResult is a code as Intune shows it: a Win32 error code (1 to 65535,
// what an installer exits with) as HRESULT_FROM_WIN32 (1603 is
// 0x80070643), any other value as its low 32 bits. 0 stays 0.
func HResult(code int64) uint32 {
	if code > 0 && code <= 0xFFFF {
		return 0x80070000 | uint32(code)
	}
	return uint32(code)
}

// CodeHex is HResult in Intune's spelling: "0x80070643". It is "" for 0.
func CodeHex(code int64) string {
	if code == 0 {
		return ""
	}
	return fmt.Sprintf("0x%08X", HResult(code))
}

// codeMeanings are the codes this project reports or installers commonly
// exit with, by HResult, with the text Windows or Intune gives them.
var codeMeanings = map[uint32]string{
	HResult(CodeNotDetected): "The application was not detected after installation completed successfully",
	HResult(CodeTimeout):     "The installer ran past its maximum run time",
	HResult(CodeFailure):     "Unspecified error",
	HResult(CodeDependency):  "A dependency of the app is not met",
	HResult(CodeNoSession):   "The user logged off while the app policy was being processed",
	0x80070001:               "Incorrect function (exit code 1)",
	0x80070002:               "The system cannot find the file specified",
	0x80070005:               "Access is denied",
	0x80070642:               "User cancelled installation",
	0x80070643:               "Fatal error during installation",
	0x80070652:               "Another installation is already in progress",
	0x80070659:               "This installation is forbidden by system policy",
	0x80070BC2:               "The requested operation is successful; a reboot is required",
}

// CodeMeaning is what code means, or "" when this package does not know it.
func CodeMeaning(code int64) string { return codeMeanings[HResult(code)] }
