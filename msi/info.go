package msi

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Context is the install context Microsoft's tool records as
// MsiExecutionContext.
type Context string

// The contexts, spelled as Detection.xml spells them.
const (
	ContextSystem Context = "System" // ALLUSERS=1
	ContextUser   Context = "User"   // ALLUSERS empty or absent
	ContextAny    Context = "Any"    // ALLUSERS=2
)

// Info is what IntuneWinAppUtil records about an MSI setup file: the
// Detection.xml <Name> (ProductName) and every <MsiInfo> value, plus the
// raw facts the values were derived from. Strings are as stored in the
// MSI (GUID case and braces included).
type Info struct {
	ProductName    string // Property ProductName, else summary Subject
	ProductCode    string // Property ProductCode (required)
	ProductVersion string // Property ProductVersion (required)
	PackageCode    string // summary Revision Number
	UpgradeCode    string // Property UpgradeCode; "" when absent
	Manufacturer   string // Property Manufacturer, else summary Author

	Context            Context
	RequiresLogon      bool // Context is User
	RequiresReboot     bool // Property REBOOT starts with "F" (Force)
	MachineInstall     bool // !UserInstall
	UserInstall        bool // see userInstall
	IncludesServices   bool // see ReadInfo: always false, as Microsoft's tool writes
	IncludesODBC       bool // ODBCDataSource has rows
	SystemRegistryKeys bool // Registry or RemoveRegistry writes HKCR, HKLM or HKU
	SystemFolders      bool // Directory names a system folder

	// Facts behind the values.
	AllUsers       string // Property ALLUSERS ("" when absent)
	InstallPerUser string // Property MSIINSTALLPERUSER
	Services       int    // rows in ServiceInstall
	Summary        Summary
}

// systemFolders are the Directory keys that make SystemFolders true.
var systemFolders = []string{
	"AdminToolsFolder", "CommonAppDataFolder", "FontsFolder", "System16Folder",
	"System64Folder", "SystemFolder", "TempFolder", "WindowsFolder", "WindowsVolume",
}

// ReadInfo reads the MSI held in r (size bytes) and derives Info the way
// IntuneWinAppUtil derives MsiInfo. The rules, and how sure each is:
//
//   - ProductCode, ProductVersion: the properties; missing is ErrProperty
//     (Microsoft's tool fails with "Property not found").
//   - Context: ALLUSERS empty or absent → User, "1" → System, "2" → Any,
//     anything else is ErrProperty, as Microsoft's tool refuses it (stated
//     by its maintainers in the Content Prep Tool's issue tracker).
//   - RequiresLogon: Context is User. RequiresReboot: REBOOT begins with
//     "F". UserInstall: ALLUSERS is not "1" and (ALLUSERS is not "2" or
//     MSIINSTALLPERUSER is set); MachineInstall is its negation.
//   - SystemRegistryKeys: a Registry or RemoveRegistry row with Root 2
//     (HKLM) or 3 (HKU), or -1 (per-machine/per-user) in a machine install.
//     The fixture (Root 2 rows) gives true.
//   - SystemFolders: a Directory key among systemFolders
//     (case-insensitive). The fixture (no such key) gives false.
//   - IncludesODBC: ODBCDataSource has rows.
//   - IncludesServices: false. Microsoft's tool wrote false for the
//     fixture AESetup.msi, whose ServiceInstall table has two rows, so
//     "ServiceInstall has rows" is not its rule; we write false always and
//     keep the row count in Services. A guess that matches every
//     Detection.xml we have seen.
//   - ProductName, Manufacturer fall back to the summary's Subject and
//     Author; PackageCode is the summary's Revision Number (a "PackageCode"
//     property, if any, wins, as in the community re-implementations).
//
// All but the Context and ALLUSERS rule and the fixture-checked values come
// from community re-implementations of the tool, not from Microsoft.
func ReadInfo(r io.ReaderAt, size int64) (Info, error) {
	db, err := Open(r, size)
	if err != nil {
		return Info{}, err
	}
	return db.Info()
}

// ReadInfoFile is ReadInfo for the file at path.
func ReadInfoFile(path string) (Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return Info{}, fmt.Errorf("msi: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Info{}, fmt.Errorf("msi: %w", err)
	}
	return ReadInfo(f, st.Size())
}

// Info derives Info from the opened database; see ReadInfo.
func (db *Database) Info() (Info, error) {
	var in Info
	props, err := db.Properties()
	if err != nil {
		return in, err
	}
	if in.Summary, err = db.Summary(); err != nil {
		return in, err
	}
	var ok bool
	if in.ProductCode, ok = props["ProductCode"]; !ok {
		return in, fmt.Errorf("msi: %w: property ProductCode not found", ErrProperty)
	}
	if in.ProductVersion, ok = props["ProductVersion"]; !ok {
		return in, fmt.Errorf("msi: %w: property ProductVersion not found", ErrProperty)
	}
	in.ProductName = orElse(props["ProductName"], in.Summary.Subject)
	in.Manufacturer = orElse(props["Manufacturer"], in.Summary.Author)
	in.PackageCode = orElse(props["PackageCode"], in.Summary.RevisionNumber)
	in.UpgradeCode = props["UpgradeCode"]
	in.AllUsers, in.InstallPerUser = props["ALLUSERS"], props["MSIINSTALLPERUSER"]

	switch in.AllUsers {
	case "":
		in.Context = ContextUser
	case "1":
		in.Context = ContextSystem
	case "2":
		in.Context = ContextAny
	default:
		return in, fmt.Errorf("msi: %w: invalid ALLUSERS property value %q (Microsoft's tool accepts only empty, 1 or 2)", ErrProperty, in.AllUsers)
	}
	in.RequiresLogon = in.Context == ContextUser
	in.RequiresReboot = strings.HasPrefix(props["REBOOT"], "F")
	in.UserInstall = in.AllUsers != "1" && (in.AllUsers != "2" || in.InstallPerUser != "")
	in.MachineInstall = !in.UserInstall

	if in.Services, err = db.rowCount("ServiceInstall"); err != nil {
		return in, err
	}
	odbc, err := db.rowCount("ODBCDataSource")
	if err != nil {
		return in, err
	}
	in.IncludesODBC = odbc > 0
	for _, t := range []string{"Registry", "RemoveRegistry"} {
		if in.SystemRegistryKeys {
			break
		}
		if in.SystemRegistryKeys, err = db.systemKeys(t, in.MachineInstall); err != nil {
			return in, err
		}
	}
	if in.SystemFolders, err = db.systemFolders(); err != nil {
		return in, err
	}
	return in, nil
}

func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// rowCount returns the rows of table name; 0 if the table is not defined.
func (db *Database) rowCount(name string) (int, error) {
	t, err := db.Table(name)
	if errors.Is(err, ErrNoTable) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return t.Rows(), nil
}

// systemKeys reports whether table (Registry or RemoveRegistry) has a
// row whose Root is HKLM (2) or HKU (3), or -1 in a machine install.
func (db *Database) systemKeys(name string, machine bool) (bool, error) {
	return db.anyRow(name, "Root", func(t *Table, row, col int) (bool, error) {
		root, ok, err := t.Int(row, col)
		return ok && (root == 2 || root == 3 || (root == -1 && machine)), err
	})
}

// systemFolders reports whether the Directory table has a system folder key.
func (db *Database) systemFolders() (bool, error) {
	return db.anyRow("Directory", "Directory", func(t *Table, row, col int) (bool, error) {
		key, err := t.String(row, col)
		if err != nil {
			return false, err
		}
		for _, f := range systemFolders {
			if strings.EqualFold(key, f) {
				return true, nil
			}
		}
		return false, nil
	})
}

// anyRow reports whether a row of table name matches in column column;
// a missing table has none, a table without the column is malformed.
func (db *Database) anyRow(name, column string, match func(t *Table, row, col int) (bool, error)) (bool, error) {
	t, err := db.Table(name)
	if errors.Is(err, ErrNoTable) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	col := t.Column(column)
	if col < 0 {
		return false, fmt.Errorf("msi: %w", formatErr("%s table without a %s column", name, column))
	}
	for row := range t.Rows() {
		if ok, err := match(t, row, col); err != nil || ok {
			return ok && err == nil, err
		}
	}
	return false, nil
}
