package sqlstore

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// sqliteFileMode is the mode of the database file and its -wal and -shm
// companions: they hold password hashes, sessions and the audit trail's
// addresses, so only the service's own user may read them.
const sqliteFileMode fs.FileMode = 0o600

// sqliteCompanions are the files SQLite keeps beside a WAL database.
var sqliteCompanions = []string{"", "-wal", "-shm"}

// sqlitePath returns the file a SQLite name opens, or "" when it is not a
// plain file on disk (a URI with an authority we do not parse).
func sqlitePath(name string) string {
	p := strings.TrimPrefix(name, "file:")
	if strings.HasPrefix(p, "//") {
		// file://host/path: leave it to SQLite.
		return ""
	}
	return p
}

// restrictSQLiteFiles makes the database and its companions owner-only,
// whatever the umask and whether or not they existed: it creates the
// database file 0600 when missing (SQLite gives -wal and -shm the mode of
// the database file) and narrows the mode of any that exist already, such as
// those an older release left 0644. It warns when the directory lets other
// users in, since they could still read whatever SQLite creates there
// later (a rollback journal) or replace the files. Failures are logged,
// not returned: SQLite reports the real problem when it opens the file.
func restrictSQLiteFiles(ctx context.Context, log *slog.Logger, path string) {
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.LogAttrs(ctx, slog.LevelWarn, "the SQLite data directory is accessible to other users; make it owner-only (chmod 700)",
			slog.String("dir", dir), slog.String("mode", fi.Mode().Perm().String()))
	}
	if f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, sqliteFileMode); err == nil {
		f.Close()
	}
	chmodSQLiteFiles(ctx, log, path)
}

// chmodSQLiteFiles narrows the mode of the database and of the companions
// that exist to sqliteFileMode.
func chmodSQLiteFiles(ctx context.Context, log *slog.Logger, path string) {
	for _, suffix := range sqliteCompanions {
		name := path + suffix
		fi, err := os.Stat(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil && fi.Mode().Perm() == sqliteFileMode {
			continue
		}
		if err == nil {
			err = os.Chmod(name, sqliteFileMode)
		}
		if err != nil {
			log.LogAttrs(ctx, slog.LevelWarn, "could not make a SQLite file owner-only",
				slog.String("file", name), slog.Any("error", err))
		}
	}
}
