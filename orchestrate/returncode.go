package orchestrate

import "github.com/imepipe/imepipe/imeapi"

// Outcome is what an installer's exit code means (win32LobAppReturnCode types).
type Outcome string

// The return code types.
const (
	Success    Outcome = "success"
	SoftReboot Outcome = "softReboot"
	HardReboot Outcome = "hardReboot"
	Retry      Outcome = "retry"
	Failed     Outcome = "failed"
)

// DefaultReturnCodes are Intune's defaults for a new Win32 app.
var DefaultReturnCodes = []imeapi.ReturnCode{
	{ReturnCode: 0, Type: string(Success)},
	{ReturnCode: 1707, Type: string(Success)},
	{ReturnCode: 3010, Type: string(SoftReboot)},
	{ReturnCode: 1641, Type: string(HardReboot)},
	{ReturnCode: 1618, Type: string(Retry)},
}

// MapReturnCode maps an exit code with the app's return codes (the
// defaults when it lists none); a code not listed is Failed. mapped says
// whether the code was found.
func MapReturnCode(codes []imeapi.ReturnCode, code int64) (o Outcome, mapped bool) {
	if len(codes) == 0 {
		codes = DefaultReturnCodes
	}
	for _, c := range codes {
		if int64(c.ReturnCode) == code {
			switch Outcome(c.Type) {
			case Success, SoftReboot, HardReboot, Retry, Failed:
				return Outcome(c.Type), true
			}
			return Failed, true
		}
	}
	return Failed, false
}
