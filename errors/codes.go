package errors

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The constructors below cover every code of easydb's error catalogue that
// groupd can send (easydb-facts.md sections 5 and 6). api errors carry a
// description and, where useful, the offending attribute; user errors carry
// the parameters easydb documents; server errors carry a cause that is only
// ever logged.

// --- realm api: the request is malformed ---------------------------------

func APIGeneric(description string) *Error {
	return newError(RealmAPI, "error.api.generic", nil, description)
}

func InvalidRequestMethod(method, path string) *Error {
	return newError(RealmAPI, "error.api.invalid_request_method", params("method", method),
		fmt.Sprintf("Method %s is not allowed on %s", method, path))
}

// InvalidContent is a body that is not the JSON the endpoint expects.
func InvalidContent(description string) *Error {
	return newError(RealmAPI, "error.api.invalid_content", nil, description)
}

// BodyTooLarge is sent, without reading the rest, for a body over the limit.
func BodyTooLarge(limit int64) *Error {
	return newError(RealmAPI, "error.api.invalid_content", params("limit", strconv.FormatInt(limit, 10)),
		fmt.Sprintf("Request body larger than %d bytes", limit))
}

// BodyTooSlow is a body that arrived slower than the server accepts: it had
// grace plus one second per minRate bytes received (web.BodyDeadline).
func BodyTooSlow(grace time.Duration, minRate int64) *Error {
	return newError(RealmAPI, "error.api.invalid_content",
		params("timeout", grace.String(), "min_rate", strconv.FormatInt(minRate, 10)),
		fmt.Sprintf("Request body arrived too slowly: it must arrive within %s plus one second per %d bytes",
			grace, minRate))
}

func InvalidAPI(path string) *Error {
	return newError(RealmAPI, "error.api.invalid_api", params("path", path), "No such API: "+path)
}

// AttributeExpected is a missing mandatory attribute (named by its JSON path).
func AttributeExpected(attribute string) *Error {
	return newError(RealmAPI, "error.api.attribute_expected", params("attribute", attribute),
		"Attribute expected: "+attribute)
}

// TypeMismatch is an attribute of the wrong JSON type.
func TypeMismatch(attribute, expected string) *Error {
	return newError(RealmAPI, "error.api.type_mismatch", params("attribute", attribute, "expected", expected),
		fmt.Sprintf("Attribute %s must be %s", attribute, expected))
}

// InvalidValue is an attribute of the right type whose value is not allowed.
func InvalidValue(attribute, reason string) *Error {
	return newError(RealmAPI, "error.api.invalid_value", params("attribute", attribute, "reason", reason),
		fmt.Sprintf("Invalid value for %s: %s", attribute, reason))
}

func PositionalParameterExpected(path string) *Error {
	return newError(RealmAPI, "error.api.positional_parameter_expected", nil,
		"Positional parameter expected: "+path)
}

// AttributeNotAccepted is an attribute that is unknown or not writable here.
func AttributeNotAccepted(attribute string) *Error {
	return newError(RealmAPI, "error.api.attribute_not_accepted", params("attribute", attribute),
		"Attribute not accepted: "+attribute)
}

func InvalidMaskset(description string) *Error {
	return newError(RealmAPI, "error.api.invalid_maskset", nil, description)
}

func APIEAS(description string) *Error {
	return newError(RealmAPI, "error.api.eas", nil, description)
}

func SuggestLockTaken(description string) *Error {
	return newError(RealmAPI, "error.api.suggest_lock_taken", nil, description)
}

// TooManyItems: a request carries more than limit of what ("items" of a
// bulk body, or "passwords" among a bulk's users), refused as soon as the
// count passes the limit. The code is that of a body over the size limit
// (BodyTooLarge), with the limit as a parameter too.
func TooManyItems(what string, limit int) *Error {
	return newError(RealmAPI, "error.api.invalid_content", params("limit", strconv.Itoa(limit), "counted", what),
		fmt.Sprintf("A request may carry at most %d %s", limit, what))
}

// --- realm server: groupd failed; the cause is logged, never sent ----------

func serverError(code, description string, cause error) *Error {
	e := newError(RealmServer, code, nil, description)
	e.cause = cause
	return e
}

func ServerGeneric(cause error) *Error {
	return serverError("error.server.generic", "Internal server error", cause)
}

func Database(cause error) *Error {
	return serverError("error.server.database", "Database error", cause)
}

func Elasticsearch(cause error) *Error {
	return serverError("error.server.elasticsearch", "Search engine error", cause)
}

func ServerEAS(cause error) *Error {
	return serverError("error.server.eas", "Asset server error", cause)
}

func InternalFileError(cause error) *Error {
	return serverError("error.server.internal_file_error", "Internal file error", cause)
}

// --- realm user: well formed, refused ------------------------------------

func NotAuthenticated() *Error {
	return newError(RealmUser, "error.user.not_authenticated", nil, "")
}

// InsufficientRights: operation is create, read, update or delete; typ the
// base type (group, user); ids a comma list or "-"; right the missing right.
func InsufficientRights(operation, typ, ids, right string) *Error {
	return newError(RealmUser, "error.user.insufficient_rights",
		params("operation", operation, "type", typ, "ids", ids, "right", right), "")
}

// NoSystemRight names the missing system right, e.g. "system.group" or
// "system.group.create" for a missing parameter.
func NoSystemRight(right string) *Error {
	return newError(RealmUser, "error.user.no_system_right", params("right", right), "")
}

// NoSystemRightParam: the system right is held, but not with the parameter
// the operation needs (e.g. system.group without create); easydb names the
// parameter in extra_info.
func NoSystemRightParam(right, param string) *Error {
	return newError(RealmUser, "error.user.no_system_right", params("right", right, "extra_info", param), "")
}

func ChangeOwnerOnCreation() *Error {
	return newError(RealmUser, "error.user.change_owner_on_creation", nil, "")
}

func InvalidOwnerOnCreation() *Error {
	return newError(RealmUser, "error.user.invalid_owner_on_creation", nil, "")
}

func VersionMismatch(provided, expected int64) *Error {
	return newError(RealmUser, "error.user.version_mismatch",
		params("provided", strconv.FormatInt(provided, 10), "expected", strconv.FormatInt(expected, 10)), "")
}

// IntegrityConstraintViolation names the violated constraint, e.g. "group.name".
func IntegrityConstraintViolation(constraint string) *Error {
	return newError(RealmUser, "error.user.integrity_constraint_violation", params("constraint", constraint), "")
}

func UserNotFound(id string) *Error {
	return newError(RealmUser, "error.user.user_not_found", params("id", id), "")
}

func GroupNotFound(id string) *Error {
	return newError(RealmUser, "error.user.group_not_found", params("id", id), "")
}

func RightNotFound(id string) *Error {
	return newError(RealmUser, "error.user.right_not_found", params("id", id), "")
}

func CustomTypeRequired() *Error {
	return newError(RealmUser, "error.user.custom_type_required", nil, "")
}

func DeleteSystemGroup(groupID int64) *Error {
	return newError(RealmUser, "error.user.delete_system_group", params("group_id", strconv.FormatInt(groupID, 10)), "")
}

func DeleteSystemUser(userID int64) *Error {
	return newError(RealmUser, "error.user.delete_system_user", params("user_id", strconv.FormatInt(userID, 10)), "")
}

func UserUpdateSystemGroup(userID, groupID int64) *Error {
	return newError(RealmUser, "error.user.user_update_system_group",
		params("user_id", strconv.FormatInt(userID, 10), "group_id", strconv.FormatInt(groupID, 10)), "")
}

// UpdateSystemUser: an attribute of a system user that cannot change (login,
// _acl, or a system right it holds) was changed; attribute names it. The
// user API document lists "Update System User" with "the error parameters
// tell which one".
func UpdateSystemUser(userID int64, attribute string) *Error {
	return newError(RealmUser, "error.user.update_system_user",
		params("user_id", strconv.FormatInt(userID, 10), "attribute", attribute), "")
}

// UserAutoDisable: a user may not set login_disabled on itself.
func UserAutoDisable() *Error {
	return newError(RealmUser, "error.user.user_auto_disable", nil, "")
}

func ObjectNotFound(id string) *Error {
	return newError(RealmUser, "error.user.object_not_found", params("id", id), "")
}

// ObjectsNotFound: grouped objects (package object) that do not exist or
// that the caller may not see, named together as a comma list in "ids", so
// that a surface can answer for all of them at once (Navixy 217, Noko 404).
// An invisible object is not told apart from a missing one.
func ObjectsNotFound(ids []int64) *Error {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	list := strings.Join(s, ",")
	return newError(RealmUser, "error.user.object_not_found", params("type", "object", "ids", list), "")
}

// SessionNotFound carries the token the client sent, as easydb does: the
// client already holds it, and it is useless once unknown.
func SessionNotFound(token string) *Error {
	return newError(RealmUser, "error.user.session_not_found", params("id", token), "")
}

func SessionInvalid() *Error {
	return newError(RealmUser, "error.user.session_invalid", nil, "")
}

func TasksNotConfirmed() *Error {
	return newError(RealmUser, "error.user.tasks_not_confirmed", nil, "")
}

// UserInvalidValue is easydb's user-realm Invalid Value (attribute, value,
// expected_format), e.g. for an unknown language.
func UserInvalidValue(attribute, value, expectedFormat string) *Error {
	return newError(RealmUser, "error.user.invalid_value",
		params("attribute", attribute, "value", value, "expected_format", expectedFormat), "")
}

// --- login errors (easydb-facts.md section 5) ----------------------------

func UsernameOrPasswordEmpty() *Error {
	return newError(RealmUser, "error.user.username_or_password_empty", nil, "")
}

func LoginFailed() *Error {
	return newError(RealmUser, "error.user.login_failed", nil, "")
}

func LoginDisabled() *Error {
	return newError(RealmUser, "error.user.login_disabled", nil, "")
}

func LoginDisabledFrom(from string) *Error {
	return newError(RealmUser, "error.user.login_disabled_from", params("from", from), "")
}

func LoginDisabledTo(to string) *Error {
	return newError(RealmUser, "error.user.login_disabled_to", params("to", to), "")
}

// LoginBlocked: groupd does not check a password now; until says when the
// block ends (RFC 3339), reason why (login: too many failed logins for the
// login; address: too many from the client's address; busy: too many logins
// waiting for a password check; new_sessions: too many new sessions from the
// address). easydb's own "Login Blocked" is the answer every easydb client
// already shows as "try again later".
func LoginBlocked(until, reason string) *Error {
	return newError(RealmUser, "error.user.login_blocked", params("until", until, "reason", reason), "")
}

func AuthenticationMethodNotAllowed(method string) *Error {
	return newError(RealmUser, "error.user.authentication_method_not_allowed", params("method", method), "")
}
