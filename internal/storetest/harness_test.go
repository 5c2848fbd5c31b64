package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/mongo"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/sqlite"
)

// mongoURIEnv names a MongoDB to run the suites against as well, e.g.
// "mongodb://127.0.0.1:27017/?replicaSet=rs0". Each test gets a fresh
// database there, dropped afterwards.
const mongoURIEnv = "BANHAO_TEST_MONGODB_URI"

// stores are the store implementations of one backend, all on the same
// fresh, empty database. A new area adds its store here and in each open
// function.
type stores struct {
	catalog  catalog.Store
	staff    identity.StaffStore
	sessions identity.SessionStore
	audit    audit.Store
	citizens identity.CitizenStore
	kiosks   identity.KioskStore
	queue    queue.Store

	// sqlite and mongo are the raw database of the backend (one of them
	// is set), for areas that build their store in their own test file.
	sqlite *sqlite.DB
	mongo  *mongo.DB
}

// backend is one storage implementation under test.
type backend struct {
	name string
	// skip, if it returns a reason, skips the backend.
	skip func() string
	// open returns stores on a fresh database that is removed when t ends.
	open func(t *testing.T) stores
}

var backends = []backend{
	{name: "sqlite", open: openSQLite},
	{name: "ferretdb", open: openFerretDB},
	{name: "mongodb", open: openMongoDB, skip: func() string {
		if os.Getenv(mongoURIEnv) == "" {
			return mongoURIEnv + " is not set; set it to a MongoDB URI to run the suites against a real server"
		}
		return ""
	}},
}

// scenario is one contract test; it gets its own fresh store.
type scenario[S any] struct {
	name string
	run  func(t *testing.T, s S)
}

// runContract runs every scenario against every backend, as
// <Test>/<backend>/<scenario>, each on a database of its own.
func runContract[S any](t *testing.T, pick func(stores) S, scenarios []scenario[S]) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			if b.skip != nil {
				if reason := b.skip(); reason != "" {
					t.Skip(reason)
				}
			}
			for _, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) {
					sc.run(t, pick(b.open(t)))
				})
			}
		})
	}
}

func openSQLite(t *testing.T) stores {
	t.Helper()
	db, err := sqlite.Open(t.Context(), sqlite.Config{Path: filepath.Join(t.TempDir(), "banhao.db")})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close sqlite: %v", err)
		}
	})
	ids := sqlite.NewIdentityStore(db)
	return stores{
		catalog:  sqlite.NewCatalogStore(db),
		staff:    ids,
		sessions: ids,
		audit:    sqlite.NewAuditStore(db),
		citizens: sqlite.NewCitizenStore(db),
		kiosks:   sqlite.NewKioskStore(db),
		queue:    sqlite.NewQueueStore(db),
		sqlite:   db,
	}
}

// ferretNew serialises ferretdb.New, which writes package-level state
// (the version info) and so races when parallel tests start instances.
var ferretNew sync.Mutex

// openFerretDB starts a FerretDB of its own for the test, on SQLite files
// in a temporary folder, and stops it when the test ends.
func openFerretDB(t *testing.T) stores {
	t.Helper()
	// The embedded FerretDB on SQLite is happiest with one connection per
	// client; concurrency tests still interleave their operations.
	return openMongoStores(t, startFerretDB(t), "banhao", 1)
}

// startFerretDB starts a FerretDB for the test and returns its URI.
func startFerretDB(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ferretNew.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	ferretNew.Unlock()
	if err != nil {
		t.Fatalf("new ferretdb: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	// Registered after t.TempDir, so it runs before the folder is removed:
	// FerretDB must close its SQLite files first.
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return f.MongoDBURI()
}

// openMongoDB uses the MongoDB named by BANHAO_TEST_MONGODB_URI with a
// fresh, randomly named database that is dropped when the test ends.
func openMongoDB(t *testing.T) stores {
	t.Helper()
	uri := os.Getenv(mongoURIEnv)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "banhao_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := mongodrv.Connect(options.Client().ApplyURI(uri))
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer func() { _ = c.Disconnect(ctx) }()
		if err := c.Database(name).Drop(ctx); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	return openMongoStores(t, uri, name, 0)
}

func openMongoStores(t *testing.T, uri, database string, maxPool uint64) stores {
	t.Helper()
	db, err := mongo.OpenWith(t.Context(), mongo.Options{URI: uri, Database: database, MaxPoolSize: maxPool})
	if err != nil {
		t.Fatalf("open mongo %s: %v", uri, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := db.Close(ctx); err != nil {
			t.Errorf("close mongo: %v", err)
		}
	})
	ids := mongo.NewIdentityStore(db)
	return stores{
		catalog:  mongo.NewCatalogStore(db),
		staff:    ids,
		sessions: ids,
		audit:    mongo.NewAuditStore(db),
		citizens: mongo.NewCitizenStore(db),
		kiosks:   mongo.NewKioskStore(db),
		queue:    mongo.NewQueueStore(db),
		mongo:    db,
	}
}
