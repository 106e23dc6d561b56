//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package persist

import (
	"os"
	"syscall"
)

// lockFile takes an advisory flock(2) on f, waiting for it. The kernel
// drops it when the process dies.
func lockFile(f *os.File, exclusive bool) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}

func unlockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }

// syncDir makes a rename or removal in dir durable (fsync of the directory).
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
