package rules

import "os"

// systemFolders are the real known folders (Windows: from the
// environment, which Windows sets for every process).
func systemFolders() map[string]string { return foldersFromEnv(os.Getenv) }
