package sqlite

import (
	"context"
	"testing"

	"github.com/g-oc/goc/internal/store"
	"github.com/g-oc/goc/internal/store/storetest"
)

func TestReminderLogConformance(t *testing.T) {
	storetest.RunReminderLog(t, func(t *testing.T) (store.ReminderLog, func() store.ReminderLog) {
		s, path := openTemp(t)
		return s, func() store.ReminderLog {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			again, err := Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { again.Close() })
			return again
		}
	})
}
