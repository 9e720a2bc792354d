package apiparts_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/g-oc/goc/collectors/feed"
	"github.com/g-oc/goc/internal/api"
	"github.com/g-oc/goc/internal/apiparts"
	"github.com/g-oc/goc/internal/intake"
)

// The API shows its own copy of a feed's status; a field added to the puller's status
// and not carried would vanish from GET /api/v1/feeds, so the copy must read the same.
func TestFeedStatusReadsTheSameAsThePullersInJSON(t *testing.T) {
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		s    feed.Status
	}{
		{"failed", feed.Status{Name: "kpi", URL: "https://kpi.gov.vn/f.csv", Format: feed.CSV, LastRun: at, LastSuccess: at.Add(-time.Hour),
			LastResult: "error", Values: 12, Written: 3, Errors: 2,
			Error: &feed.Error{Time: at, Reason: feed.ReasonInvalid, Message: "2 problems",
				Problems: []intake.Problem{{Rule: "bounds", Reason: "quá lớn / too large"}, {Rule: "required", Reason: "thiếu / missing"}}}}},
		{"never pulled", feed.Status{Name: "new", URL: "https://kpi.gov.vn/", Format: feed.JSON}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.Marshal(tc.s)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(apiparts.FeedStatus(tc.s))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("API feed status\n got %s\nwant %s", got, want)
			}
		})
	}
	for _, pair := range [][2]reflect.Type{
		{reflect.TypeFor[feed.Status](), reflect.TypeFor[api.FeedStatus]()},
		{reflect.TypeFor[feed.Error](), reflect.TypeFor[api.FeedError]()},
	} {
		if pair[0].NumField() != pair[1].NumField() {
			t.Errorf("%s has %d fields, the API's %s %d: carry the new one in apiparts.FeedStatus", pair[0], pair[0].NumField(), pair[1], pair[1].NumField())
		}
	}
}
