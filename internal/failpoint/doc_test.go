package failpoint

import (
	"sync"
	"testing"
)

func TestCheck(t *testing.T) {
	t.Setenv("WEIR_FAILPOINTS", "udf@2, upload@3,bad,snapshot@x")
	once = sync.Once{}
	fired = map[string]bool{}
	if err := Check(UDF, 2, 1); err != nil {
		t.Fatal("fired before a checkpoint completed")
	}
	if err := Check(UDF, 1, 2); err != nil {
		t.Fatal("fired in another attempt")
	}
	if err := Check(UDF, 2, 2); err == nil || err.Error() != "failpoint udf fired in attempt 2" {
		t.Fatalf("got %v", err)
	}
	if err := Check(UDF, 2, 2); err != nil {
		t.Fatal("fired twice")
	}
	if err := Check(Upload, 3, 2); err == nil {
		t.Fatal("upload@3 did not fire")
	}
	if err := Check(SnapshotSync, 1, 2); err != nil {
		t.Fatal("a malformed entry armed a failpoint")
	}
}
