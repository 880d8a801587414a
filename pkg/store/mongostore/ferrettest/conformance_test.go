package ferrettest

import (
	"context"
	"strings"
	"testing"

	"github.com/authd/authd/pkg/store"
	"github.com/authd/authd/pkg/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		if embedded && strings.HasSuffix(t.Name(), "/ListUsersConcurrentCreates") {
			// FerretDB v1 on SQLite answers a filtered, sorted find by
			// reading and sorting the whole collection (no index use), so
			// each page costs O(users) and the case's concurrent writer
			// outgrows its 30 s deadline. mongostore's query is the
			// keyset walk of users.created_at_id on MongoDB; the case runs
			// there (AUTHD_TEST_MONGODB_URL).
			t.Skip("embedded FerretDB scans the collection for every page; run with AUTHD_TEST_MONGODB_URL for this case")
		}
		return openFresh(t)
	})
}

func TestAudit(t *testing.T) {
	storetest.RunAudit(t, func(t *testing.T) (store.AuditLog, func(context.Context, string) error) {
		if strings.HasSuffix(t.Name(), "/AppendOnly") {
			// The case runs SQL against the SQL backends' triggers.
			// MongoDB has no triggers: there the trail is append-only by
			// the privileges of authd's database user (README, "MongoDB").
			t.Skip("append-only is enforced by SQL triggers; MongoDB enforces it by privileges, not testable with raw SQL")
		}
		return openFresh(t), nil
	})
}
