//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || windows)

package persist

import "os"

// lockFile does nothing on systems without flock or LockFileEx: the file
// store then serializes writers within one process only.
func lockFile(*os.File, bool) error { return nil }

func unlockFile(*os.File) error { return nil }

// syncDir syncs dir where the system allows it.
func syncDir(dir string) error {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
