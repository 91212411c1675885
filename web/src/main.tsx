import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserRouter, RouterProvider } from 'react-router';
import { initFirebase } from './firebase';
import { routes } from './routes';
import './styles.css';

const root = createRoot(document.getElementById('root')!);

initFirebase().then(
  () =>
    root.render(
      <StrictMode>
        <RouterProvider router={createBrowserRouter(routes)} />
      </StrictMode>,
    ),
  (error: unknown) =>
    root.render(
      <main className="page narrow">
        <div className="card">
          <h1>Cannot reach the backend</h1>
          <p className="alert error">Loading the Firebase configuration failed: {String(error)}</p>
        </div>
      </main>,
    ),
);
