package persist

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// recordExt ends every record file's name.
const recordExt = ".json"

// maxNameBase bounds the encoded part of a record file's name, well under
// the 255 bytes most file systems allow in one name.
const maxNameBase = 200

// fileName maps a valid key to its record file's name, one path element
// that is safe on every file system lrokit runs on:
//
//   - bytes other than a-z, 0-9, "-" and "_" are percent-encoded (upper-case
//     hex), so "/" and "." never appear, and keys that differ only in case
//     stay apart on case-insensitive file systems (macOS, Windows);
//   - a name that Windows reserves for a device (CON, NUL, COM1...) gets its
//     first byte encoded;
//   - a name longer than maxNameBase keeps an encoded prefix and ends with
//     "~" and a SHA-256 of the key; the file itself holds the key.
//
// Short names decode back to the key (keyFromName).
func fileName(key string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(key) + 8)
	for i := 0; i < len(key); i++ {
		c := key[i]
		if plainByte(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	name := b.String()
	if windowsReserved(name) {
		name = "%" + strings.ToUpper(hex.EncodeToString([]byte{name[0]})) + name[1:]
	}
	if len(name) > maxNameBase {
		cut := maxNameBase - 1 - 32 // room for "~" and 32 hex digits
		for i := cut - 2; i < cut; i++ {
			if name[i] == '%' { // do not split an escape
				cut = i
				break
			}
		}
		sum := sha256.Sum256([]byte(key))
		name = name[:cut] + "~" + hex.EncodeToString(sum[:16])
	}
	return name + recordExt
}

func plainByte(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// windowsReserved reports whether name is a Windows device name, which no
// file may take whatever its extension.
func windowsReserved(name string) bool {
	switch name {
	case "con", "prn", "aux", "nul":
		return true
	}
	if len(name) == 4 && (strings.HasPrefix(name, "com") || strings.HasPrefix(name, "lpt")) && name[3] >= '0' && name[3] <= '9' {
		return true
	}
	return false
}

// keyFromName reverses fileName for names that are not hashed. It reports
// false for any name fileName does not produce.
func keyFromName(name string) (string, bool) {
	base, ok := strings.CutSuffix(name, recordExt)
	if !ok || base == "" || strings.Contains(base, "~") {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(base); i++ {
		c := base[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(base) {
			return "", false
		}
		v, err := hex.DecodeString(base[i+1 : i+3])
		if err != nil {
			return "", false
		}
		b.WriteByte(v[0])
		i += 2
	}
	key := b.String()
	if ValidateKey(key) != nil || fileName(key) != name {
		return "", false
	}
	return key, true
}
