package console

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/identity"
)

// citizenLookupView is what a window clerk sees of a citizen: the name in
// full (to compare with the person at the window), the rest masked.
type citizenLookupView struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	IDNumberMasked string `json:"id_number_masked"`
	PhoneMasked    string `json:"phone_masked,omitempty"`
}

// handleCitizenLookup finds a bound citizen by ID number for a stated
// purpose; the lookup lands in the citizen's data-use log.
func handleCitizenLookup(cs *identity.Citizens) fiber.Handler {
	return func(c *fiber.Ctx) error {
		st := staffOf(c)
		roles := make([]string, len(st.Roles))
		for i, r := range st.Roles {
			roles[i] = string(r)
		}
		p, err := cs.LookupByIDNumber(c.UserContext(), identity.Reader{
			Actor: "staff:" + st.ID, Role: strings.Join(roles, ","), Center: st.Center, IP: c.IP(),
		}, c.Query("id_number"), c.Query("purpose"))
		if err != nil {
			return err
		}
		v := citizenLookupView{ID: p.ID, Name: p.Name, IDNumberMasked: identity.MaskIDNumber(p.IDNumber)}
		if p.Phone != "" {
			v.PhoneMasked = identity.MaskMobile(p.Phone)
		}
		return c.JSON(v)
	}
}
