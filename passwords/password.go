// Package passwords hashes and checks passwords (argon2id, PHC strings) and
// holds the password-length rule. It sits below both user (which stores a
// user's hash) and session (which checks a login against it), so that
// neither imports the other for it.
package passwords

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/groupd/groupd/errors"
	"golang.org/x/crypto/argon2"
)

// hashParams are the argon2id cost parameters of new password hashes.
// Existing hashes keep the parameters written into their PHC string, so
// changing these never locks anybody out.
type hashParams struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8  // lanes
}

// defaultParams: 64 MiB, one pass, two lanes.
//
// Why these: argon2id's strength against GPU and ASIC guessing comes from
// memory, not passes. 64 MiB is RFC 9106's "second recommended option"
// memory size and well above OWASP's minimum for argon2id (19 MiB with t=2,
// or 46 MiB with t=1); with t=1 a hash costs about 20-30 ms on one server
// core, which keeps a login fast and a burst of logins affordable (hashing is
// limited to GOMAXPROCS at a time, so 64 MiB per hash bounds the memory a
// burst can take). Two lanes let the hash use two cores without doubling its
// latency. Raise Time before lowering Memory if hashes ever become too cheap.
var defaultParams = hashParams{Memory: 64 * 1024, Time: 1, Threads: 2}

const (
	saltLen = 16
	keyLen  = 32
	// maxMemory caps the memory a stored hash may ask for (1 GiB), so that a
	// corrupt or hostile hash cannot make a login allocate without bound.
	maxMemory = 1 << 20
)

var (
	// params are the parameters of new hashes; only tests change them.
	paramsMu sync.RWMutex
	params   = defaultParams

	// hashSlots limits concurrent argon2 computations to the number of CPUs:
	// beyond that they only queue for the CPU while each holds its memory.
	hashSlots = make(chan struct{}, runtime.GOMAXPROCS(0))
)

func currentParams() hashParams {
	paramsMu.RLock()
	defer paramsMu.RUnlock()
	return params
}

// Hash returns the argon2id hash of pw as a PHC string,
// $argon2id$v=19$m=65536,t=1,p=2$<salt>$<hash> (unpadded standard base64),
// with a fresh random salt.
func Hash(pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", errors.Errorf("password salt: %w", err)
	}
	p := currentParams()
	key, _ := idKey(context.Background(), []byte(pw), salt, p, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Check reports whether pw matches the PHC string phc, comparing in
// constant time. A malformed phc never matches.
func Check(phc, pw string) bool {
	ok, _ := checkPassword(context.Background(), phc, pw)
	return ok
}

// checkPassword is Check that gives up with ctx's error while it
// waits for a hash slot.
func checkPassword(ctx context.Context, phc, pw string) (bool, error) {
	p, salt, want, ok := parsePHC(phc)
	if !ok {
		return false, nil
	}
	got, err := idKey(ctx, []byte(pw), salt, p, uint32(len(want)))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// idKey computes an argon2id key in one of the hash slots, waiting for one
// until ctx ends.
func idKey(ctx context.Context, pw, salt []byte, p hashParams, n uint32) ([]byte, error) {
	select {
	case hashSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-hashSlots }()
	return argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, n), nil
}

func parsePHC(phc string) (p hashParams, salt, key []byte, ok bool) {
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, false
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, false
	}
	var m, t, threads uint64
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &threads); err != nil || n != 3 {
		return p, nil, nil, false
	}
	if m < 8 || m > maxMemory || t < 1 || t > 100 || threads < 1 || threads > 255 || m < 8*threads {
		return p, nil, nil, false
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, false
	}
	key, err = b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, false
	}
	return hashParams{Memory: uint32(m), Time: uint32(t), Threads: uint8(threads)}, salt, key, true
}

// dummy is the hash that a login is checked against when its user does not
// exist or has no password, so that "no such user" costs the same time as
// "wrong password" and the two answers cannot be told apart.
var dummy dummyHash

type dummyHash struct {
	mu  sync.Mutex
	phc string
}

func (d *dummyHash) get() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.phc == "" {
		var pw [24]byte
		_, _ = rand.Read(pw[:])
		phc, err := Hash(base64.RawURLEncoding.EncodeToString(pw[:]))
		if err != nil {
			// crypto/rand does not fail on supported platforms; a fixed
			// salt still costs the same time.
			p := currentParams()
			phc = fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
				"c2FsdHNhbHRzYWx0c2FsdA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
		}
		d.phc = phc
	}
	return d.phc
}

func (d *dummyHash) reset() {
	d.mu.Lock()
	d.phc = ""
	d.mu.Unlock()
}

// CheckOrDummy checks pw against phc, or against the dummy hash when phc is
// empty or malformed; the result is then always false. It fails only with
// ctx's error, when ctx ends while it waits for a hash slot.
func CheckOrDummy(ctx context.Context, phc, pw string) (bool, error) {
	if _, _, _, ok := parsePHC(phc); ok {
		return checkPassword(ctx, phc, pw)
	}
	_, err := checkPassword(ctx, dummy.get(), pw)
	return false, err
}

// Dummy prepares the hash CheckOrDummy compares unknown logins with, so that
// the first unknown login does not pay for computing it.
func Dummy() { dummy.get() }

// CheckLength is the minimum-length rule of a new password: at least minLen
// characters (runes), else error.api.invalid_value on attribute.
func CheckLength(attribute, pw string, minLen int) error {
	if utf8.RuneCountInString(pw) < minLen {
		return errors.InvalidValue(attribute, "at least "+strconv.Itoa(minLen)+" characters")
	}
	return nil
}

// Credentials are what a login is checked against: the user a login names,
// its password hash ("" when it has none) and whether it may log in. Package
// user reads them; package session checks a password against them.
type Credentials struct {
	UserID        int64
	Hash          string
	LoginDisabled bool
}
