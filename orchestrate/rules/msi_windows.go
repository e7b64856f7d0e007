package rules

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	modmsi                   = windows.NewLazySystemDLL("msi.dll")
	procMsiQueryProductState = modmsi.NewProc("MsiQueryProductStateW")
	procMsiGetProductInfo    = modmsi.NewProc("MsiGetProductInfoW")
)

// installStateDefault is INSTALLSTATE_DEFAULT: the product is installed
// for the current user or the machine.
const installStateDefault = 5

// WindowsInstaller answers product code rules through msi.dll:
// MsiQueryProductStateW for the state, MsiGetProductInfoW(VersionString)
// for the version. It reads only.
type WindowsInstaller struct{}

// Product reports whether code ({GUID}) is installed and its version.
func (WindowsInstaller) Product(code string) (bool, string, error) {
	if err := procMsiQueryProductState.Find(); err != nil {
		return false, "", fmt.Errorf("rules: Windows Installer: %w", err)
	}
	p, err := windows.UTF16PtrFromString(code)
	if err != nil {
		return false, "", fmt.Errorf("rules: product code %q: %w", code, ErrRule)
	}
	r, _, _ := procMsiQueryProductState.Call(uintptr(unsafe.Pointer(p)))
	if int32(r) != installStateDefault {
		return false, "", nil
	}
	prop, _ := windows.UTF16PtrFromString("VersionString")
	buf := make([]uint16, 64)
	for {
		n := uint32(len(buf))
		r, _, _ := procMsiGetProductInfo.Call(uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(prop)),
			uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)))
		switch windows.Errno(r) {
		case windows.ERROR_SUCCESS:
			return true, windows.UTF16ToString(buf[:n]), nil
		case windows.ERROR_MORE_DATA:
			if n >= 1<<12 {
				return true, "", fmt.Errorf("rules: product %s: version too long: %w", code, ErrRule)
			}
			buf = make([]uint16, n+1)
		case windows.ERROR_UNKNOWN_PROPERTY:
			return true, "", nil
		default:
			return true, "", fmt.Errorf("rules: MsiGetProductInfo %s: %w", code, windows.Errno(r))
		}
	}
}
