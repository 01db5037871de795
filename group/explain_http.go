package group

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"
	"github.com/groupd/groupd/acl"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
	"github.com/groupd/groupd/web"
)

// Explainer is the decision engine that explains its decisions
// (policy.Engine).
type Explainer interface {
	Authorizer
	Explain(p *policy.Principal, obj *policy.Object) ([]policy.RightExplanation, error)
}

// ExplainHandler serves GET /api/v1/group/{id}/explain?user=<id>: which rule
// grants a user each right on a group, or that none does. It only reads.
type ExplainHandler struct {
	store     *Store
	engine    Explainer
	principal func(*http.Request) *policy.Principal
	// principalOf is the principal of a user as a session of that user
	// would have it (its groups and combined system rights); nil, nil for
	// an unknown user.
	principalOf func(ctx context.Context, userID int64) (*policy.Principal, error)
}

// NewExplainHandler returns the explanation API on store.
func NewExplainHandler(store *Store, engine Explainer, principal func(*http.Request) *policy.Principal,
	principalOf func(ctx context.Context, userID int64) (*policy.Principal, error)) *ExplainHandler {
	return &ExplainHandler{store: store, engine: engine, principal: principal, principalOf: principalOf}
}

// Register mounts the route on r behind requireAuth.
func (h *ExplainHandler) Register(r *mux.Router, requireAuth func(http.Handler) http.Handler) {
	r.Handle("/api/v1/group/{id}/explain", requireAuth(web.Handle(h.explain))).Methods(http.MethodGet)
}

// explainBody is the answer: the group, the user, and one line per ACL
// right.
type explainBody struct {
	Group  json.RawMessage `json:"group"`
	User   explainUser     `json:"user"`
	Rights []explainRight  `json:"rights"`
}

type explainUser struct {
	ID    int64  `json:"_id"`
	Login string `json:"login"`
	Type  string `json:"type"`
}

type explainRight struct {
	Right   string          `json:"right"`
	Granted bool            `json:"granted"`
	Grounds []explainGround `json:"grounds"`
}

type explainGround struct {
	Rule string `json:"rule"`
	// ACLIndex is the entry's position in the group's _acl.
	ACLIndex *int `json:"acl_index,omitempty"`
	// Who is the subject the owner or ACL entry names, in short format.
	Who          json.RawMessage `json:"who,omitempty"`
	EntryRights  []string        `json:"entry_rights,omitempty"`
	ThroughGroup json.RawMessage `json:"through_group,omitempty"`
}

// explain answers for the user of ?user=. Anybody may ask about themselves
// on a group they may read; asking about another user needs system.root,
// since the answer shows the group's ACL and the user's memberships.
func (h *ExplainHandler) explain(w http.ResponseWriter, r *http.Request) error {
	p := h.principal(r)
	if !h.engine.HasSystemRight(p, rights.SystemGroup, "") {
		return errors.NoSystemRight(rights.SystemGroup)
	}
	id, err := web.PathInt64(r, "id")
	if err != nil {
		return err
	}
	raw := r.URL.Query().Get("user")
	userID, parseErr := strconv.ParseInt(raw, 10, 64)
	if parseErr != nil || userID <= 0 {
		return errors.InvalidValue("user", "positive user id expected")
	}
	root := h.engine.HasSystemRight(p, rights.SystemRoot, "")
	if userID != p.UserID && !root {
		return errors.NoSystemRight(rights.SystemRoot)
	}
	g, err := h.store.Get(r.Context(), p, id)
	if err != nil {
		return err
	}
	if g == nil {
		return errors.GroupNotFound(strconv.FormatInt(id, 10))
	}
	obj := g.PolicyObject()
	if !root {
		ok, canErr := h.engine.Can(p, rights.BagRead, obj)
		if canErr != nil {
			return errors.ServerGeneric(canErr)
		}
		if !ok {
			return errors.InsufficientRights("read", "group", strconv.FormatInt(id, 10), rights.BagRead)
		}
	}
	target, err := h.principalOf(r.Context(), userID)
	if err != nil {
		return err
	}
	if target == nil {
		return errors.UserNotFound(strconv.FormatInt(userID, 10))
	}
	ex, err := h.engine.Explain(target, obj)
	if err != nil {
		return errors.ServerGeneric(err)
	}
	body := explainBody{
		Group: appendRef(nil, acl.Ref{Kind: "group", ID: g.ID, Name: g.Name, Type: g.Type,
			GroupDisplayname: displaynameJSON(g.Displayname)}),
		User:   explainUser{ID: target.UserID, Login: target.Login, Type: target.UserType},
		Rights: make([]explainRight, 0, len(ex)),
	}
	for _, re := range ex {
		line := explainRight{Right: re.Right, Granted: re.Granted, Grounds: []explainGround{}}
		for _, gr := range re.Grounds {
			out := explainGround{Rule: gr.Rule}
			switch gr.Rule {
			case policy.RuleOwner:
				out.Who = appendRef(nil, g.Owner)
				if gr.ThroughGroupID != 0 {
					out.ThroughGroup = out.Who
				}
			case policy.RuleACL:
				i := gr.ACLIndex
				out.ACLIndex = &i
				entry := g.ACL[i]
				if !entry.WhoOwner && (entry.WhoUserID != 0 || entry.WhoGroupID != 0) {
					out.Who = appendRef(nil, g.ACLWho[i])
				}
				out.EntryRights = entry.Mask.Names()
				if gr.ThroughGroupID != 0 {
					out.ThroughGroup = out.Who
				}
			}
			line.Grounds = append(line.Grounds, out)
		}
		body.Rights = append(body.Rights, line)
	}
	return web.JSON(w, body)
}

// displaynameJSON is a culture map as JSON (written as the full format
// writes it, which cannot fail), nil when empty.
func displaynameJSON(m map[string]string) json.RawMessage {
	if len(m) == 0 {
		return nil
	}
	return appendStringMap(nil, m)
}
