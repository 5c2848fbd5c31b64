package storetest

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/identity"
)

// TestCitizenStore is the contract of identity.CitizenStore.
func TestCitizenStore(t *testing.T) {
	runContract(t, func(s stores) identity.CitizenStore { return s.citizens }, citizenScenarios)
}

var citizenScenarios = []scenario[identity.CitizenStore]{
	{"ensure stores a citizen once and returns it to later logins", testEnsureCitizen},
	{"concurrent first logins of one user end with one citizen", testEnsureCitizenConcurrent},
	{"unknown citizen is not found", testCitizenNotFound},
	{"binding a real name stores it and finds the citizen by its index", testBindRealName},
	{"binding again to the same number is fine and changes nothing", testBindRealNameAgain},
	{"a bound citizen cannot bind another number", testBindRealNameOther},
	{"a number bound to another citizen is a conflict", testBindRealNameTaken},
	{"citizens racing to bind one number: exactly one wins", testBindRealNameRace},
	{"set phone stores the sealed phone and its index", testSetPhone},
}

// The store never opens sealed values, so opaque strings stand in for them.
const (
	nameSealed  = "v1.sealed-name"
	idSealed    = "v1.sealed-id"
	phoneSealed = "v1.sealed-phone"
	idxA        = "bi:id_number:aaaa"
	idxB        = "bi:id_number:bbbb"
)

// newCitizen is a citizen as a first login stores it: unbound, holding
// its placeholder index.
func newCitizen(id, openID string) identity.Citizen {
	return identity.Citizen{
		ID: id, OpenID: openID, UnionID: "union-" + openID,
		IDIndex: identity.UnboundIndex(id), CreatedAt: at,
	}
}

// storedCitizen is how a store returns a citizen it was given.
func storedCitizen(c identity.Citizen) identity.Citizen {
	c.BoundAt = stored(c.BoundAt)
	c.CreatedAt = stored(c.CreatedAt)
	return c
}

// bound is c after binding idIndex at `when`, as the store returns it.
func bound(c identity.Citizen, idIndex string, when time.Time) identity.Citizen {
	c.NameSealed, c.IDSealed, c.IDIndex, c.BoundAt = nameSealed, idSealed, idIndex, when
	return storedCitizen(c)
}

func sameCitizen(t *testing.T, what string, got, want identity.Citizen) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
	for _, tm := range []time.Time{got.BoundAt, got.CreatedAt} {
		if tm.Location() != time.UTC {
			t.Errorf("%s: time %v not in UTC", what, tm)
		}
	}
}

// ensure stores c and checks it comes back as stored.
func ensure(t *testing.T, s identity.CitizenStore, c identity.Citizen) {
	t.Helper()
	got, err := s.EnsureCitizen(t.Context(), c)
	must(t, "ensure "+c.ID, err)
	sameCitizen(t, "ensure "+c.ID, got, storedCitizen(c))
}

func getCitizen(t *testing.T, s identity.CitizenStore, id string) identity.Citizen {
	t.Helper()
	c, err := s.GetCitizen(t.Context(), id)
	must(t, "get "+id, err)
	return c
}

func testEnsureCitizen(t *testing.T, s identity.CitizenStore) {
	ctx := t.Context()
	first := newCitizen("ct1", "wx-open-1")
	ensure(t, s, first)
	got := getCitizen(t, s, "ct1")
	sameCitizen(t, "get", got, storedCitizen(first))
	if got.Bound() {
		t.Errorf("a first login is bound")
	}

	// The same WeChat user logs in again: a new candidate, the old citizen.
	again := newCitizen("ct2", "wx-open-1")
	again.CreatedAt = at.Add(time.Hour)
	got, err := s.EnsureCitizen(ctx, again)
	must(t, "ensure again", err)
	sameCitizen(t, "second login", got, storedCitizen(first))
	_, err = s.GetCitizen(ctx, "ct2")
	wantCode(t, "get the second candidate", err, apperr.NotFound)

	// Another user gets a citizen of their own.
	other := newCitizen("ct3", "wx-open-2")
	ensure(t, s, other)
	sameCitizen(t, "first citizen after another login", getCitizen(t, s, "ct1"), storedCitizen(first))
}

func testEnsureCitizenConcurrent(t *testing.T, s identity.CitizenStore) {
	ctx := t.Context()
	const logins = 20
	results := make([]identity.Citizen, logins)
	errs := make([]error, logins)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range logins {
		wg.Go(func() {
			<-start
			results[i], errs[i] = s.EnsureCitizen(ctx, newCitizen(fmt.Sprintf("ct%02d", i), "wx-open-1"))
		})
	}
	close(start)
	wg.Wait()

	for i, err := range errs {
		must(t, fmt.Sprintf("login %d", i), err)
	}
	winner := results[0]
	for i, r := range results {
		sameCitizen(t, fmt.Sprintf("login %d", i), r, winner)
	}
	sameCitizen(t, "stored", getCitizen(t, s, winner.ID), storedCitizen(newCitizen(winner.ID, "wx-open-1")))
	for i := range logins {
		if id := fmt.Sprintf("ct%02d", i); id != winner.ID {
			if _, err := s.GetCitizen(ctx, id); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("losing candidate %s: got %v, want not found", id, err)
			}
		}
	}
}

func testCitizenNotFound(t *testing.T, s identity.CitizenStore) {
	ctx := t.Context()
	ensure(t, s, newCitizen("ct1", "wx-open-1"))
	_, err := s.GetCitizen(ctx, "nobody")
	wantCode(t, "get unknown", err, apperr.NotFound)
	_, err = s.FindCitizenByIDIndex(ctx, idxA)
	wantCode(t, "find by an index nobody bound", err, apperr.NotFound)
	wantCode(t, "bind unknown", s.BindRealName(ctx, "nobody", nameSealed, idSealed, idxA, at), apperr.NotFound)
	_, err = s.FindCitizenByIDIndex(ctx, idxA)
	wantCode(t, "find after binding unknown", err, apperr.NotFound)
}

func testBindRealName(t *testing.T, s identity.CitizenStore) {
	ctx := t.Context()
	c := newCitizen("ct1", "wx-open-1")
	other := newCitizen("ct2", "wx-open-2")
	ensure(t, s, c)
	ensure(t, s, other)
	when := at.Add(time.Hour)
	must(t, "bind", s.BindRealName(ctx, "ct1", nameSealed, idSealed, idxA, when))

	got := getCitizen(t, s, "ct1")
	sameCitizen(t, "after bind", got, bound(c, idxA, when))
	if !got.Bound() {
		t.Errorf("after bind: not bound")
	}
	found, err := s.FindCitizenByIDIndex(ctx, idxA)
	must(t, "find by index", err)
	sameCitizen(t, "find by index", found, bound(c, idxA, when))
	sameCitizen(t, "another citizen", getCitizen(t, s, "ct2"), storedCitizen(other))

	// A later login of the bound user returns the bound citizen.
	login, err := s.EnsureCitizen(ctx, newCitizen("ct9", "wx-open-1"))
	must(t, "login after bind", err)
	sameCitizen(t, "login after bind", login, bound(c, idxA, when))
}

func testBindRealNameAgain(t *testing.T, s identity.CitizenStore) {
	ctx := t.Context()
	c := newCitizen("ct1", "wx-open-1")
	ensure(t, s, c)
	must(t, "bind", s.BindRealName(ctx, "ct1", nameSealed, idSealed, idxA, at))
	// A retried request seals afresh, so its sealed values differ.
	must(t, "bind again", s.BindRealName(ctx, "ct1", "v1.sealed-name-2", "v1.sealed-id-2", idxA, at.Add(time.Hour)))
	sameCitizen(t, "after binding again", getCitizen(t, s, "ct1"), bound(c, idxA, at))
}

func testBindRealNameOther(t *testing.T, s identity.CitizenStore) {
	ctx := t.Context()
	c := newCitizen("ct1", "wx-open-1")
	ensure(t, s, c)
	must(t, "bind", s.BindRealName(ctx, "ct1", nameSealed, idSealed, idxA, at))
	err := s.BindRealName(ctx, "ct1", "v1.sealed-name-2", "v1.sealed-id-2", idxB, at.Add(time.Hour))
	wantCode(t, "bind to another number", err, identity.CodeAlreadyBound)

	sameCitizen(t, "after refused rebind", getCitizen(t, s, "ct1"), bound(c, idxA, at))
	_, err = s.FindCitizenByIDIndex(ctx, idxB)
	wantCode(t, "find the refused number", err, apperr.NotFound)
}

func testBindRealNameTaken(t *testing.T, s identity.CitizenStore) {
	ctx := t.Context()
	holder := newCitizen("ct1", "wx-open-1")
	late := newCitizen("ct2", "wx-open-2")
	ensure(t, s, holder)
	ensure(t, s, late)
	must(t, "bind holder", s.BindRealName(ctx, "ct1", nameSealed, idSealed, idxA, at))

	err := s.BindRealName(ctx, "ct2", "v1.sealed-name-2", "v1.sealed-id-2", idxA, at.Add(time.Hour))
	wantCode(t, "bind a taken number", err, apperr.Conflict)

	got := getCitizen(t, s, "ct2")
	sameCitizen(t, "refused citizen", got, storedCitizen(late))
	if got.Bound() {
		t.Errorf("refused citizen is bound")
	}
	found, err := s.FindCitizenByIDIndex(ctx, idxA)
	must(t, "find by index", err)
	sameCitizen(t, "holder", found, bound(holder, idxA, at))

	// The refused citizen can still bind its own number.
	must(t, "bind another number", s.BindRealName(ctx, "ct2", nameSealed, idSealed, idxB, at))
	sameCitizen(t, "after binding its own number", getCitizen(t, s, "ct2"), bound(late, idxB, at))
}

func testBindRealNameRace(t *testing.T, s identity.CitizenStore) {
	ctx := t.Context()
	const racers = 10
	for i := range racers {
		ensure(t, s, newCitizen(fmt.Sprintf("ct%02d", i), fmt.Sprintf("wx-open-%02d", i)))
	}
	errs := make([]error, racers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range racers {
		wg.Go(func() {
			<-start
			errs[i] = s.BindRealName(ctx, fmt.Sprintf("ct%02d", i), nameSealed, idSealed, idxA, at)
		})
	}
	close(start)
	wg.Wait()

	winner := ""
	for i, err := range errs {
		id := fmt.Sprintf("ct%02d", i)
		switch {
		case err == nil && winner == "":
			winner = id
		case err == nil:
			t.Errorf("both %s and %s bound the same number", winner, id)
		case !apperr.Is(err, apperr.Conflict):
			t.Errorf("%s: got %v, want a conflict", id, err)
		}
	}
	if winner == "" {
		t.Fatalf("nobody bound the number: %v", errs)
	}
	found, err := s.FindCitizenByIDIndex(ctx, idxA)
	must(t, "find by index", err)
	if found.ID != winner || !found.Bound() {
		t.Errorf("number bound to %s (bound %v), want %s", found.ID, found.Bound(), winner)
	}
	for i := range racers {
		id := fmt.Sprintf("ct%02d", i)
		if id == winner {
			continue
		}
		if c := getCitizen(t, s, id); c.Bound() || c.IDIndex != identity.UnboundIndex(id) || c.IDSealed != "" {
			t.Errorf("loser %s: %+v, want unbound", id, c)
		}
	}
}

func testSetPhone(t *testing.T, s identity.CitizenStore) {
	ctx := t.Context()
	c := newCitizen("ct1", "wx-open-1")
	other := newCitizen("ct2", "wx-open-2")
	ensure(t, s, c)
	ensure(t, s, other)
	must(t, "bind", s.BindRealName(ctx, "ct1", nameSealed, idSealed, idxA, at))

	must(t, "set phone", s.SetPhone(ctx, "ct1", phoneSealed, "bi:phone:1111"))
	want := bound(c, idxA, at)
	want.PhoneSealed, want.PhoneIndex = phoneSealed, "bi:phone:1111"
	sameCitizen(t, "after set phone", getCitizen(t, s, "ct1"), want)

	// A new number replaces the old one.
	must(t, "change phone", s.SetPhone(ctx, "ct1", "v1.sealed-phone-2", "bi:phone:2222"))
	want.PhoneSealed, want.PhoneIndex = "v1.sealed-phone-2", "bi:phone:2222"
	sameCitizen(t, "after change phone", getCitizen(t, s, "ct1"), want)
	// Setting the same again still finds the citizen.
	must(t, "set the same phone", s.SetPhone(ctx, "ct1", "v1.sealed-phone-2", "bi:phone:2222"))

	sameCitizen(t, "another citizen", getCitizen(t, s, "ct2"), storedCitizen(other))
	wantCode(t, "set phone of unknown", s.SetPhone(ctx, "nobody", phoneSealed, "bi:phone:1111"), apperr.NotFound)
}
