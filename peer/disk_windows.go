package peer

import "golang.org/x/sys/windows"

// diskSize is the size in bytes of the volume holding dir.
func diskSize(dir string) (int64, error) {
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return 0, err
	}
	var free, total, totalFree uint64
	if err := windows.GetDiskFreeSpaceEx(p, &free, &total, &totalFree); err != nil {
		return 0, err
	}
	return int64(total), nil
}
