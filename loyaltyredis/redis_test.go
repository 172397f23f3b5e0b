package loyaltyredis

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// The tests need a redis-server: the one at LOYALTY_REDIS_ADDR (CI starts it), else one they
// start from the redis-server on PATH. Without either they are skipped, unless
// LOYALTY_REDIS_REQUIRED is set (CI sets it), when they fail.

func TestMain(m *testing.M) {
	if spec := os.Getenv(workerEnv); spec != "" {
		os.Exit(runWorker(spec)) // this binary, run again as one of several processes
	}
	redis.SetLogger(quiet{}) // go-redis logs every failed dial; the tests fail them on purpose
	code := m.Run()
	stopShared()
	if code == 0 {
		// After the shared server is stopped, no test may leave a goroutine behind. The one
		// exception is go-redis's own: after a failed dial it sleeps a second before it
		// notices that its pool was closed, then ends.
		if err := goleak.Find(goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).tryDial")); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// redisServer is a redis-server started by a test, on a loopback port of its own, keeping
// nothing on disk.
type redisServer struct {
	addr string
	dir  string
	cmd  *exec.Cmd
}

func needRedis(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("LOYALTY_REDIS_REQUIRED") != "" {
			t.Fatal("LOYALTY_REDIS_REQUIRED is set and there is no redis-server on PATH")
		}
		t.Skip("no redis-server on PATH (apt-get install redis-server); set LOYALTY_REDIS_ADDR to use a running one")
	}
}

// startRedis starts a redis-server and returns once it accepts connections.
func startRedis(t testing.TB) *redisServer {
	t.Helper()
	needRedis(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	r := &redisServer{addr: addr, dir: t.TempDir()}
	r.start(t)
	t.Cleanup(r.stop)
	return r
}

// start starts the server on its address, and waits for it to say it is ready.
func (r *redisServer) start(t testing.TB) {
	t.Helper()
	_, port, _ := net.SplitHostPort(r.addr)
	r.cmd = exec.Command("redis-server", "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no", "--dir", r.dir)
	out, err := r.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, r.cmd.Start())
	ready := make(chan bool, 1)
	go func() {
		s := bufio.NewScanner(out)
		found := false
		for s.Scan() {
			if !found && strings.Contains(s.Text(), "Ready to accept connections") {
				found = true
				ready <- true
			}
		}
		if !found {
			ready <- false
		}
	}()
	require.True(t, <-ready, "redis-server on %s did not start", r.addr)
}

// stop kills the server, as a crash or a restart would.
func (r *redisServer) stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

var shared struct {
	sync.Mutex
	server *redisServer
	addr   string
}

// sharedAddr is the address of the Redis that tests share, each under a prefix of its own.
func sharedAddr(t testing.TB) string {
	t.Helper()
	shared.Lock()
	defer shared.Unlock()
	if shared.addr != "" {
		return shared.addr
	}
	if addr := os.Getenv("LOYALTY_REDIS_ADDR"); addr != "" {
		shared.addr = addr
		return addr
	}
	needRedis(t)
	shared.server = startRedisForAll(t)
	shared.addr = shared.server.addr
	return shared.addr
}

// startRedisForAll starts a server that outlives the test that asked first.
func startRedisForAll(t testing.TB) *redisServer {
	dir, err := os.MkdirTemp("", "loyaltyredis")
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r := &redisServer{addr: l.Addr().String(), dir: dir}
	require.NoError(t, l.Close())
	r.start(t)
	return r
}

func stopShared() {
	shared.Lock()
	defer shared.Unlock()
	if shared.server != nil {
		shared.server.stop()
		_ = os.RemoveAll(shared.server.dir)
	}
}

// newRedis returns a client of addr, closed when the test ends, and a prefix no other test
// uses.
func newRedis(t testing.TB, addr string) (*redis.Client, string) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb, "test:" + rand.Text()[:10] + ":"
}

// keysUnder returns every key under prefix with its value.
func keysUnder(t testing.TB, rdb *redis.Client, pattern string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	iter := rdb.Scan(ctx, 0, pattern, 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		v, err := rdb.Get(ctx, k).Result()
		if err == redis.Nil {
			continue
		}
		if err != nil { // a limit's state is a hash or a string of numbers; read it raw
			v = fmt.Sprint(rdb.Do(ctx, "DUMP", k).Val())
		}
		out[k] = v
	}
	require.NoError(t, iter.Err())
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

// net0 finds a loopback port that nothing listens on.
type net0 struct{}

func (net0) closedPort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// quiet is a go-redis logger that says nothing.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// agedEpoch makes the ledger under prefix look as a Redis that has kept everything for age
// does: its epoch began age ago, on the server that runs now.
func agedEpoch(t testing.TB, rdb *redis.Client, prefix string, age time.Duration) {
	t.Helper()
	ctx := context.Background()
	now, err := rdb.Time(ctx).Result()
	require.NoError(t, err)
	start := now.Add(-age)
	require.NoError(t, rdb.Set(ctx, prefix+slot+"epoch",
		fmt.Sprintf("aged|%d|%d|%s", start.Unix(), start.Nanosecond()/1000, runID(t, rdb)), 0).Err())
}

// runID is the Redis server's run id, which a restart or another server changes.
func runID(t testing.TB, rdb *redis.Client) string {
	t.Helper()
	info, err := rdb.Info(context.Background(), "server").Result()
	require.NoError(t, err)
	for _, line := range strings.Split(info, "\n") {
		if id, ok := strings.CutPrefix(strings.TrimSpace(line), "run_id:"); ok {
			return id
		}
	}
	t.Fatal("no run_id in INFO server")
	return ""
}
