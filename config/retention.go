package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Audit retention bounds (AUTHD_AUDIT_RETENTION). The lower one is the
// age below which the store's triggers refuse any DELETE of the trail
// (store.MinAuditAge; config imports nothing of authd, so it is repeated);
// the upper one keeps days*24h inside a time.Duration.
const (
	minAuditRetention = 24 * time.Hour
	maxAuditRetention = 36500 * 24 * time.Hour
)

// errRetention is the one way AUTHD_AUDIT_RETENTION can be wrong.
var errRetention = errors.New("must be off, 0 (keep forever), a number of days such as 400d, or a Go duration such as 720h; at least 1d and at most 36500d")

// AuditRetentionPeriod returns how long audit events are kept, or 0 when
// they are kept forever (AuditRetention "off" or "0").
func (c Config) AuditRetentionPeriod() (time.Duration, error) {
	return ParseAuditRetention(c.AuditRetention)
}

// ParseAuditRetention parses an AUTHD_AUDIT_RETENTION value: "off" or
// "0" (0, keep forever), whole days ("400d"), or a Go duration ("720h"),
// between one day and 36500 days.
func ParseAuditRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "off" || s == "0" {
		return 0, nil
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > 36500 {
			return 0, fmt.Errorf("%q: %w", s, errRetention)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q: %w", s, errRetention)
		}
	}
	if d < minAuditRetention || d > maxAuditRetention {
		return 0, fmt.Errorf("%q: %w", s, errRetention)
	}
	return d, nil
}

// retentionChecks are the validation rows of the retention settings.
func (c Config) retentionChecks() []check {
	_, err := c.AuditRetentionPeriod()
	return []check{
		{err != nil, "AUTHD_AUDIT_RETENTION", errRetention.Error()},
	}
}
