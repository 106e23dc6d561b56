//go:build windows

package persist

import (
	"os"

	"golang.org/x/sys/windows"
)

// lockFile takes a LockFileEx lock on the first byte of f, waiting for it.
// Windows drops it when the process dies.
func lockFile(f *os.File, exclusive bool) error {
	var flags uint32
	if exclusive {
		flags = windows.LOCKFILE_EXCLUSIVE_LOCK
	}
	return windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, new(windows.Overlapped))
}

func unlockFile(f *os.File) error {
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, new(windows.Overlapped))
}

// syncDir does nothing: Windows cannot sync a directory, and NTFS journals
// the rename itself.
func syncDir(string) error { return nil }
