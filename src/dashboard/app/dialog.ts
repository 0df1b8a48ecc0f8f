/**
 * A modal built on the native `<dialog>`: focus is trapped and restored by the browser, Escape
 * closes it, and it is labelled by its heading.
 */
import { type ComponentChildren, h } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';

export interface DialogProps {
  title: string;
  onClose: () => void;
  children?: ComponentChildren;
  wide?: boolean;
  testId?: string;
}

export function Dialog({ title, onClose, children, wide, testId }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const closeRef = useRef(onClose);
  closeRef.current = onClose;
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (!dialog.open) dialog.showModal();
    const onCancel = (event: Event) => {
      event.preventDefault();
      closeRef.current();
    };
    dialog.addEventListener('cancel', onCancel);
    return () => {
      dialog.removeEventListener('cancel', onCancel);
      if (dialog.open) dialog.close();
    };
  }, []);
  return h(
    'dialog',
    { ref, class: wide ? 'dialog wide' : 'dialog', 'aria-labelledby': titleId, 'data-testid': testId },
    h(
      'header',
      { class: 'dialog-header' },
      h('h2', { id: titleId }, title),
      h('button', { type: 'button', class: 'icon', 'aria-label': 'Close', onClick: onClose }, '×'),
    ),
    h('div', { class: 'dialog-body' }, children),
  );
}

/** A form dialog's buttons: Cancel, and the submit button that says what it does (or is doing). */
export function FormActions(props: { busy: boolean; label: string; busyLabel: string; onClose: () => void }) {
  return h(
    'div',
    { class: 'form-actions' },
    h('button', { type: 'button', class: 'button', onClick: props.onClose }, 'Cancel'),
    h(
      'button',
      { type: 'submit', class: 'button primary', disabled: props.busy },
      props.busy ? props.busyLabel : props.label,
    ),
  );
}
