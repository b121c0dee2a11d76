"""The tenants table's rows as ONE Vue template (QTable's `body` slot) over plain row data.

A page of 100 tenants used to be 800 slotted cells, each a Quasar component (`q-td`, `q-badge`) with its
own slot scope; the browser spent most of a second building them. Here a row is one `q-tr` of plain
`<td>`s: Quasar's table styles apply to any `td` in a `.q-table`, and a badge is a div with the classes
q-badge gives it. Only the Provision button (with its tooltip) stays a component; the checkbox is the browser's own.
Vue's {{ }} writes text, never HTML: a tenant named <script>…</script> shows as those characters."""

from __future__ import annotations

from typing import Any

BADGE = 'q-badge flex inline items-center no-wrap q-badge--single-line text-white px-2 py-1'  # as q-badge draws it

# A long name without spaces wraps anywhere instead of pushing the other columns out of view; on a phone
# the name gets a narrower column, so that the status beside it stays in view.
NAME = '''<td class="text-left"
      style="white-space: normal; overflow-wrap: anywhere; min-width: min(14rem, 30vw); max-width: 24rem">
    <a :href="'/tenants/' + props.row.id" class="text-primary text-weight-medium">{{ props.row.name }}</a>
    <div class="text-grey-7 text-caption">{{ (props.row.company_name !== props.row.name ? props.row.company_name
      + ' · ' : '') + (props.row.abbr ? 'abbr. ' + props.row.abbr : 'not in ERPNext yet') }}</div></td>'''
STATUS = f'''<td class="text-left">
    <div :class="'{BADGE} bg-' + props.row.status_color">{{{{ props.row.status }}}}</div>
    <div v-if="props.row.drifted" class="{BADGE} bg-orange-8 q-ml-xs">DRIFTED</div>
    <div v-if="props.row.waiting_for" class="text-orange-9 text-caption">
      waiting for engine {{{{ props.row.waiting_for }}}} (offline)</div></td>'''
LAST_RUN = f'''<td class="text-left">
    <div v-if="props.row.last_run" :class="'{BADGE} bg-' + props.row.last_run_color">
      {{{{ props.row.last_run_outcome }}}}</div>
    <div v-if="props.row.last_run_kind" class="text-grey-7 text-caption">{{{{ props.row.last_run_kind }}}}</div></td>'''
LAST_ERROR = '''<td class="text-left">
    <div class="text-red-9 ellipsis" style="max-width: 14rem" :title="props.row.last_error">
      {{ props.row.last_error }}</div></td>'''
PLAIN = '''<td class="text-left">{{ props.row.engine }}</td>
  <td class="text-right">{{ props.row.stores }}</td>
  <td class="text-left">{{ props.row.updated }}</td>'''
# A native checkbox (one element; Quasar's is ten, with an SVG) in Quasar's colour.
SELECT = '''<td class="q-table--col-auto-width"><input type="checkbox" :checked="props.selected"
    @change="props.selected = $event.target.checked" :aria-label="'Select ' + props.row.name"
    style="width: 18px; height: 18px; accent-color: var(--q-primary); cursor: pointer; vertical-align: middle"></td>'''
ACTION = '''<td class="q-table--col-auto-width no-wrap">
    <q-btn dense flat round color="primary" icon="play_arrow" aria-label="Provision"
           :disable="props.row.active" @click="() => $parent.$emit('provision', props.row)">
      <q-tooltip>Provision</q-tooltip></q-btn></td>'''

# (name, label, align) in the order the row template draws them
COLUMNS = (('name', 'Tenant', 'left'), ('status', 'Status', 'left'), ('last_run', 'Last run', 'left'),
           ('last_error', 'Last error', 'left'), ('engine', 'Engine', 'left'), ('stores', 'Stores', 'right'),
           ('updated', 'Updated (UTC)', 'left'))


def columns(*, actions: bool) -> list[dict[str, Any]]:
    """The header's columns (the row template draws their cells); `actions`: the Provision button's."""
    named = [{'name': name, 'label': label, 'field': name, 'align': align} for name, label, align in COLUMNS]
    return named + ([{'name': 'actions', 'label': '', 'field': 'actions', 'align': 'left'}] if actions else [])


def row_template(*, selectable: bool, actions: bool) -> str:
    """The `body` slot: a row's cells in the order of `columns` (and the checkbox first when `selectable`)."""
    cells = [SELECT] if selectable else []
    cells += [NAME, STATUS, LAST_RUN, LAST_ERROR, PLAIN]
    cells += [ACTION] if actions else []
    return '<q-tr :props="props">\n  ' + '\n  '.join(cells) + '</q-tr>'
