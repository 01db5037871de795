package user

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"

	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/passwords"
)

// RootID is the system user root, created by the first migration without a
// password.
const RootID int64 = 1

// EnsureRootPassword gives root a password if it has none: password, or a
// generated one that is printed once to out (never to the log). When several
// processes start at once, each hashes its own candidate and the conditional
// UPDATE lets exactly one win; only the winner prints.
// A password shorter than minLen is refused: groupd does not start. The
// wiring calls it once at start, before any login.
func EnsureRootPassword(ctx context.Context, d *db.DB, password string, minLen int, out io.Writer, log *slog.Logger) error {
	var missing bool
	err := d.QueryRowContext(ctx, `SELECT password_hash IS NULL FROM users WHERE id = $1`, RootID).Scan(&missing)
	if err == sql.ErrNoRows || err == nil && !missing {
		return nil
	}
	if err != nil {
		return errors.Errorf("root password: %w", err)
	}
	generated := password == ""
	if generated {
		// 18 random bytes are 24 characters; more when the policy asks.
		b := make([]byte, max(18, (minLen*3+3)/4))
		if _, readErr := rand.Read(b); readErr != nil {
			return errors.Errorf("root password: %w", readErr)
		}
		password = base64.RawURLEncoding.EncodeToString(b)
	} else if checkPasswordLengthErr := passwords.CheckLength("GROUPD_ROOT_PASSWORD", password, minLen); checkPasswordLengthErr != nil {
		return errors.Errorf("root password: GROUPD_ROOT_PASSWORD must have at least %d characters", minLen)
	}
	phc, err := passwords.Hash(password)
	if err != nil {
		return errors.Errorf("root password: %w", err)
	}
	res, err := d.ExecContext(ctx, `UPDATE users SET password_hash = $2, updated_at = now()
		WHERE id = $1 AND password_hash IS NULL`, RootID, phc)
	if err != nil {
		return errors.Errorf("root password: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // another process was first
	}
	if generated {
		fmt.Fprintf(out, "groupd: generated password for user root: %s\n", password)
		log.Warn("generated a password for user root and printed it once to stderr")
	} else {
		log.Info("set the password of user root from the configuration")
	}
	return nil
}
