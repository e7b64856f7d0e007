package main

import (
	"flag"
	"io"
	"strings"
	"testing"
)

// TestDevicePropertyFlag: --device-property sets canonical names over the
// machine's defaults; unknown names and missing '=' are refused.
func TestDevicePropertyFlag(t *testing.T) {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	props := devicePropertyFlag(fs)
	if err := fs.Parse([]string{"--device-property", "MODEL=Surface Pro 9", "--device-property", "device.deviceCategory=Lab", "--device-property", "deviceName=LAB-1"}); err != nil {
		t.Fatal(err)
	}
	got := props("ignored-name")
	if got["model"] != "Surface Pro 9" || got["deviceCategory"] != "Lab" || got["deviceName"] != "LAB-1" {
		t.Errorf("%v", got)
	}
	if got := (propertyFlag{}); got.Set("colour=red") == nil || got.Set("model") == nil || got.Set("model="+strings.Repeat("x", 300)) == nil {
		t.Error("bad values accepted")
	}
	if def := machineProperties("PC-7"); def["deviceName"] != "PC-7" {
		t.Errorf("default deviceName %q", def["deviceName"])
	}
}
