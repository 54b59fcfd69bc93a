import { useState } from 'preact/hooks';
import { MrwApiError, type Model } from '@mrw/client/browser';
import { useSession } from '../session/session';
import { ErrorNotice } from '../shared/ui';

/**
 * The model's policy as JSON. Everyone reads it (secrets show redacted); an admin edits it, and
 * the registry's validation answers field by field, shown next to the editor.
 */
export const PolicyEditor = ({ model, onSaved }: { model: Model; onSaved: () => void }) => {
  const { api, can } = useSession();
  const shown = JSON.stringify(model.policy, null, 2);
  const [text, setText] = useState(shown);
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [saved, setSaved] = useState(false);

  if (!editing) {
    return (
      <div>
        <pre class="policy" aria-label="Policy (JSON)">
          {shown}
        </pre>
        {can('admin') && !model.asOf && (
          <button type="button" class="secondary" onClick={() => (setText(shown), setEditing(true), setSaved(false))}>
            Edit policy
          </button>
        )}
        {saved && (
          <p role="status" class="muted">
            Policy saved.
          </p>
        )}
      </div>
    );
  }
  const save = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (failure) {
      setError(new MrwApiError({ status: 400, code: 'MALFORMED_JSON', detail: `the policy is not JSON: ${(failure as Error).message}` }, 'PUT', ''));
      return;
    }
    try {
      await api.setPolicy(model.name, parsed);
      setEditing(false);
      setSaved(true);
      onSaved();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <form onSubmit={save}>
      <label for="policy-text">Policy (JSON)</label>
      <textarea id="policy-text" rows={Math.min(30, text.split('\n').length + 2)} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} spellcheck={false} aria-describedby="policy-errors" />
      <div id="policy-errors">
        <ErrorNotice error={error} />
      </div>
      <div class="actions">
        <button type="submit">Save policy</button>
        <button type="button" class="secondary" onClick={() => (setEditing(false), setError(undefined))}>
          Cancel
        </button>
      </div>
    </form>
  );
};
