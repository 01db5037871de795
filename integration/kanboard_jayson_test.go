package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestKanboardJayson drives /jsonrpc.php with a widely used JSON-RPC 2.0
// client, npm's jayson 5.0.0 (integration/testdata/kanboard-jayson, pinned
// by its package-lock.json; scripts/ensure-node-deps installs it, as make
// test and .ci/run do): string ids, named and positional params,
// notifications, a batch mixing calls and notifications, a batch of
// notifications only. Without node or the package the test fails, as the
// console's tests do without Chromium.
func TestKanboardJayson(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not found: the Kanboard jayson test needs Node.js 20 (then run scripts/ensure-node-deps)")
	}
	dir, err := filepath.Abs("testdata/kanboard-jayson")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "jayson", "package.json")); err != nil {
		t.Fatalf("jayson is not installed in %s: run scripts/ensure-node-deps (%v)", dir, err)
	}
	s := startKanboard(t)
	cmd := exec.CommandContext(context.Background(), node, "client.js", s.URL(), "jsonrpc", kanboardToken)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node client.js: %v\n%s", err, stderr.String())
	}
	var out struct {
		Created           rpcResp   `json:"created"`
		Get               rpcResp   `json:"get"`
		Notification      any       `json:"notification"`
		Batch             []rpcResp `json:"batch"`
		NotificationsOnly any       `json:"notificationsOnly"`
		All               rpcResp   `json:"all"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("client output: %v: %s", err, stdout.String())
	}
	id := atoi(t, string(out.Created.Result))
	eq(t, "created id", string(out.Created.ID), `"create-1"`)
	eq(t, "getGroup", string(out.Get.Result), fmt.Sprintf(`{"id":%d,"external_id":"jayson-ext","name":"jayson-group"}`, id))
	eq(t, "getGroup id", string(out.Get.ID), `"get-1"`)
	if out.Notification != nil || out.NotificationsOnly != nil {
		t.Fatalf("notifications answered: %v %v", out.Notification, out.NotificationsOnly)
	}
	if len(out.Batch) != 3 {
		t.Fatalf("batch: want 3 answers (the notification has none), got %s", stdout.String())
	}
	eq(t, "batch[0] id", string(out.Batch[0].ID), `"b-1"`)
	atoi(t, string(out.Batch[0].Result))
	eq(t, "batch[1]", string(out.Batch[1].ID), `"b-2"`)
	if out.Batch[2].Error == nil || out.Batch[2].Error.Code != -32601 || string(out.Batch[2].ID) != `"b-3"` {
		t.Fatalf("batch[2]: %+v", out.Batch[2])
	}
	for _, name := range []string{"jayson-group", "jayson-notified", "jayson-batch", "jayson-batch-note", "jayson-note-2"} {
		if !strings.Contains(string(out.All.Result), `"name":"`+name+`"`) {
			t.Fatalf("%s missing from getAllGroups: %s", name, out.All.Result)
		}
	}
}
