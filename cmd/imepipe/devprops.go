package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"

	"github.com/imepipe/imepipe/imeapi"
)

// propertyFlag is agent --device-property name=value, repeatable: the
// device properties assignment filters see (imeapi.DeviceProperties).
type propertyFlag map[string]string

func (p propertyFlag) String() string {
	var kv []string
	for k, v := range p {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

func (p propertyFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q: want name=value", s)
	}
	name, known := "", false
	for _, n := range imeapi.DeviceProperties {
		if strings.EqualFold(n, strings.TrimPrefix(k, "device.")) {
			name, known = n, true
		}
	}
	if !known {
		return fmt.Errorf("%q: unknown property; want one of %s", k, strings.Join(imeapi.DeviceProperties, ", "))
	}
	if len(v) > imeapi.MaxPropertyLen {
		return fmt.Errorf("%s: longer than %d bytes", name, imeapi.MaxPropertyLen)
	}
	p[name] = v
	return nil
}

// devicePropertyFlag registers --device-property on fs and returns the
// function that gives the properties to report: the machine's (see
// machineProperties) overridden by the flags.
func devicePropertyFlag(fs *flag.FlagSet) func(deviceName string) map[string]string {
	set := propertyFlag{}
	fs.Var(set, "device-property", "device property `NAME=VALUE` for assignment filters (repeatable), e.g. model=\"Surface Pro 9\"; "+
		"default deviceName, manufacturer, model and osVersion from this machine")
	return func(deviceName string) map[string]string {
		out := machineProperties(deviceName)
		for k, v := range set {
			out[k] = v
		}
		return out
	}
}

// machineProperties reads this machine: deviceName (the --device-name or
// host name), and on Linux manufacturer and model from DMI and osVersion
// from the kernel release. What cannot be read is left out.
func machineProperties(deviceName string) map[string]string {
	out := map[string]string{}
	if deviceName == "" {
		deviceName, _ = os.Hostname()
	}
	if deviceName != "" {
		out["deviceName"] = deviceName
	}
	if runtime.GOOS != "linux" {
		return out
	}
	for name, file := range map[string]string{
		"manufacturer": "/sys/class/dmi/id/sys_vendor",
		"model":        "/sys/class/dmi/id/product_name",
		"osVersion":    "/proc/sys/kernel/osrelease",
	} {
		if b, err := os.ReadFile(file); err == nil {
			if v := strings.TrimSpace(string(b)); v != "" && len(v) <= imeapi.MaxPropertyLen {
				out[name] = v
			}
		}
	}
	return out
}
