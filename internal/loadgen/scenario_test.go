package loadgen_test

import (
	"reflect"
	"testing"

	"github.com/authd/authd/internal/loadgen"
)

func TestParsePhases(t *testing.T) {
	tests := []struct {
		name, spec, mix string
		want            []loadgen.Phase // nil: an error
	}{
		{"one", "refresh", "", []loadgen.Phase{{Name: "refresh", Mix: []loadgen.Weight{{Scenario: loadgen.Refresh, Weight: 1}}}}},
		{"list in order", "login, verify", "", []loadgen.Phase{
			{Name: "login", Mix: []loadgen.Weight{{Scenario: loadgen.Login, Weight: 1}}},
			{Name: "verify", Mix: []loadgen.Weight{{Scenario: loadgen.Verify, Weight: 1}}},
		}},
		{"mixed", "mixed", "verify=3,me=1", []loadgen.Phase{{Name: "mixed", Mix: []loadgen.Weight{
			{Scenario: loadgen.Verify, Weight: 3}, {Scenario: loadgen.Me, Weight: 1}}}}},
		{"unknown scenario", "verify,fly", "", nil},
		{"empty", " , ", "", nil},
		{"mixed with a bad mix", "mixed", "verify=0", nil},
		{"mixed with an unknown scenario", "mixed", "verify=1,fly=2", nil},
		{"mixed with a scenario twice", "mixed", "verify=1,verify=2", nil},
		{"mixed with no weight", "mixed", "verify", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := loadgen.ParsePhases(tt.spec, tt.mix)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("accepted: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if _, err := loadgen.ParseMix(loadgen.DefaultMix); err != nil {
		t.Fatalf("DefaultMix: %v", err)
	}
}
