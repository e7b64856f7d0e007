package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/dustin/go-humanize"

	"github.com/imepipe/imepipe/decrypt"
)

func init() {
	register("inspect", "show an .intunewin's Detection.xml facts (keys hidden unless --show-keys)", runInspect)
}

func runInspect(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "inspect")
	jsonOut := fs.Bool("json", false, "print one JSON document")
	showKeys := fs.Bool("show-keys", false, "also show EncryptionKey, MacKey and InitializationVector")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("want exactly one FILE.intunewin")
	}
	if _, err := inputFile(rest[0]); err != nil {
		return err
	}
	pkg, f, err := decrypt.OpenFile(rest[0])
	if err != nil {
		return packageHint("inspect", rest[0], err)
	}
	defer f.Close()
	info, enc := pkg.Info, pkg.Info.Encryption
	doc := map[string]any{
		"file": rest[0], "toolVersion": info.ToolVersion, "name": info.Name, "setupFile": info.SetupFile,
		"fileName": info.FileName, "unencryptedContentSize": info.UnencryptedContentSize,
		"encryptedSize": pkg.ContentSize, "profileIdentifier": enc.ProfileIdentifier,
		"fileDigest": enc.FileDigest, "fileDigestAlgorithm": enc.FileDigestAlgorithm, "mac": enc.Mac,
		"msiInfo": info.Msi, "keysShown": *showKeys,
	}
	if *showKeys {
		doc["encryptionKey"], doc["macKey"], doc["initializationVector"] = enc.EncryptionKey, enc.MacKey, enc.InitializationVector
	}
	if *jsonOut {
		return writeJSON(e, doc)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 1, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t: %s\n", k, safeLine(v)) }
	row("File", rest[0])
	row("ToolVersion", info.ToolVersion)
	row("Name", info.Name)
	row("SetupFile", info.SetupFile)
	row("FileName", info.FileName)
	row("UnencryptedContentSize", fmt.Sprintf("%d (%s)", info.UnencryptedContentSize, humanize.IBytes(uint64(info.UnencryptedContentSize))))
	row("EncryptedSize", fmt.Sprintf("%d (%s)", pkg.ContentSize, humanize.IBytes(uint64(pkg.ContentSize))))
	row("ProfileIdentifier", enc.ProfileIdentifier)
	row("FileDigestAlgorithm", enc.FileDigestAlgorithm)
	row("FileDigest", enc.FileDigest)
	row("Mac", enc.Mac)
	if *showKeys {
		row("EncryptionKey", enc.EncryptionKey)
		row("MacKey", enc.MacKey)
		row("InitializationVector", enc.InitializationVector)
	} else {
		row("EncryptionKey", "(hidden; --show-keys)")
	}
	if m := info.Msi; m != nil {
		// Every MsiInfo element, in Detection.xml's order, as --json has them.
		row("MsiProductCode", m.MsiProductCode)
		row("MsiProductVersion", m.MsiProductVersion)
		row("MsiPackageCode", m.MsiPackageCode)
		row("MsiUpgradeCode", m.MsiUpgradeCode)
		row("MsiExecutionContext", m.MsiExecutionContext)
		row("MsiRequiresLogon", fmt.Sprint(m.MsiRequiresLogon))
		row("MsiRequiresReboot", fmt.Sprint(m.MsiRequiresReboot))
		row("MsiIsMachineInstall", fmt.Sprint(m.MsiIsMachineInstall))
		row("MsiIsUserInstall", fmt.Sprint(m.MsiIsUserInstall))
		row("MsiIncludesServices", fmt.Sprint(m.MsiIncludesServices))
		row("MsiIncludesODBCDataSource", fmt.Sprint(m.MsiIncludesODBCDataSource))
		row("MsiContainsSystemRegistryKeys", fmt.Sprint(m.MsiContainsSystemRegistryKeys))
		row("MsiContainsSystemFolders", fmt.Sprint(m.MsiContainsSystemFolders))
		row("MsiPublisher", m.MsiPublisher)
	}
	return tw.Flush()
}
