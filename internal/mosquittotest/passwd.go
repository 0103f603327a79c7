package mosquittotest

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"os"
	"slices"
	"strings"
)

// passwdIterations is what mosquitto_passwd 2.0 uses. The broker reads the
// count from each line, and a test has no use for a slow hash.
const passwdIterations = 101

// passwdLine returns a password file line for user in the format
// mosquitto_passwd 2.0 writes: user:$7$iterations$salt$hash, where 7 means
// PBKDF2 with HMAC-SHA-512, the salt is 12 random bytes and the hash 64
// bytes, both in standard base64.
func passwdLine(user, password string, salt []byte, iterations int) (string, error) {
	key, err := pbkdf2.Key(sha512.New, password, salt, iterations, sha512.Size)
	if err != nil {
		return "", fmt.Errorf("hash password of %q: %w", user, err)
	}
	enc := base64.StdEncoding
	return fmt.Sprintf("%s:$7$%d$%s$%s", user, iterations, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

func writePasswd(path string, users map[string]string) error {
	names := make([]string, 0, len(users))
	for u := range users {
		if u == "" || strings.ContainsAny(u, ":\r\n") {
			return fmt.Errorf("user name %q: empty or contains ':' or a line break", u)
		}
		if strings.ContainsAny(users[u], "\r\n") {
			return fmt.Errorf("password of %q contains a line break", u)
		}
		names = append(names, u)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, u := range names {
		salt := make([]byte, 12)
		rand.Read(salt)
		line, err := passwdLine(u, users[u], salt, passwdIterations)
		if err != nil {
			return err
		}
		b.WriteString(line + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("write password file: %w", err)
	}
	return nil
}
