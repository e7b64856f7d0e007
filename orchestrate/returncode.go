package orchestrate

import "github.com/imepipe/imepipe/imeapi"

// DefaultReturnCodes are Intune's defaults for a new Win32 app.
var DefaultReturnCodes = []imeapi.ReturnCode{
	{ReturnCode: 0, Type: imeapi.ReturnSuccess},
	{ReturnCode: 1707, Type: imeapi.ReturnSuccess},
	{ReturnCode: 3010, Type: imeapi.ReturnSoftReboot},
	{ReturnCode: 1641, Type: imeapi.ReturnHardReboot},
	{ReturnCode: 1618, Type: imeapi.ReturnRetry},
}

// MapReturnCode maps an exit code with the app's return codes (the
// defaults when it lists none); a code not listed, or listed with an
// unknown type, is imeapi.ReturnFailed. mapped says
// whether the code was found.
func MapReturnCode(codes []imeapi.ReturnCode, code int64) (o imeapi.ReturnCodeType, mapped bool) {
	if len(codes) == 0 {
		codes = DefaultReturnCodes
	}
	for _, c := range codes {
		if int64(c.ReturnCode) == code {
			if c.Type.Valid() {
				return c.Type, true
			}
			return imeapi.ReturnFailed, true
		}
	}
	return imeapi.ReturnFailed, false
}
