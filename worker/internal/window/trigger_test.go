package window

import (
	"strings"
	"testing"
)

func TestNewRejectsBadTriggersAndEvictors(t *testing.T) {
	for _, c := range []struct {
		cfg Config
		err string
	}{
		{Config{Kind: TumblingCount}, "count window size 0 must be positive"},
		{Config{Kind: SlidingCount, Size: 3}, "count window size 3 and slide 0 must be positive"},
		{Config{Kind: Global, Trigger: &Trigger{Kind: CountTrigger}}, "count trigger of 0 records"},
		{Config{Kind: Global, Trigger: &Trigger{Kind: ContinuousEventTimeTrigger}}, "continuous trigger interval 0ms must be positive"},
		{Config{Kind: Global, Trigger: &Trigger{Kind: CustomTrigger}}, "custom trigger without Functions.Trigger"},
		{Config{Kind: Global, Evictor: &Evictor{Kind: CustomEvictor}}, "custom evictor without Functions.Evictor"},
		{Config{Kind: Global, Evictor: &Evictor{Kind: TimeEvictor, Size: -1}}, "time evictor size -1ms must not be negative"},
		{Config{Kind: Global, Trigger: &Trigger{Kind: 99}}, "unknown trigger kind 99"},
		{Config{Kind: Session, Gap: 5, Trigger: &Trigger{Kind: CustomTrigger}}, "session windows take no custom trigger"},
		{Config{Kind: Tumbling, Size: 0, Trigger: &Trigger{Kind: CountTrigger, N: 2}}, "size 0ms and slide 0ms must be positive"},
	} {
		c.cfg.Aggregate = countAgg{}
		b := newHarness(t, Config{Kind: Tumbling, Size: 1}).b
		_, err := New(c.cfg, b)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Fatalf("%+v: error %v, want %q", c.cfg, err, c.err)
		}
	}
}
