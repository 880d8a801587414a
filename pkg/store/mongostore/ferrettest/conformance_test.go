package ferrettest

import (
	"context"
	"strings"
	"testing"

	"github.com/authd/authd/pkg/store"
	"github.com/authd/authd/pkg/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return openFresh(t) })
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
