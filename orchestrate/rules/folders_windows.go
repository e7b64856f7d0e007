package rules

import "os"

// systemFolders are the real known folders (Windows: from the
// environment, which Windows sets for every process).
func systemFolders() map[string]string { return foldersFromEnv(os.Getenv) }

// systemVar is an environment variable of this process, for a %VAR% in a
// rule's path that is no known folder: the IME expands every variable of
// its environment (%windir%, %COMPUTERNAME%, …), not only the folders.
func systemVar(name string) (string, bool) { return os.LookupEnv(name) }
